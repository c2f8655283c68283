"""``nacos-async dev-server``: a Nacos-compatible server for local development."""

from __future__ import annotations

import argparse
from typing import Any

from nacos_async.testing.cli import configure_parser, run_parsed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the subcommand on an ``add_subparsers()`` object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dev-server",
        help="run a Nacos-compatible dev server",
        description="Run a Nacos-compatible HTTP server (no Java needed), logging each request. "
        "Its first line on stderr gives the address, also with --port 0 and --quiet.",
    )
    configure_parser(parser)
    parser.set_defaults(func=run_parsed)
    return parser
