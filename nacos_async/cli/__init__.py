"""The ``nacos-async`` command: one module per subcommand, each exposing ``add_parser``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import nacos_async
from nacos_async.cli import config, demo, dev_server, login, naming

SUBCOMMANDS = (demo, dev_server, login, config, naming)
"""Modules with ``add_parser(subparsers)``; each sets ``func(args) -> int`` as a default."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nacos-async",
        description="Nacos from the command line: configs, services, a dev server and a demo.",
        epilog="Run 'nacos-async COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {nacos_async.__version__}"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nacos-async`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result: int = func(args)
    return result
