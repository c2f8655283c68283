"""Every command, option and positional explains itself and shows its default."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

import nacos_async
from nacos_async.cli import build_parser, main


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


ALL = list(parsers(build_parser()))


def test_every_command_is_walked() -> None:
    names = {p.prog.removeprefix("nacos-async").strip() for p in ALL}
    expected = {"naming deregister", "naming services", "config watch", "dev-server", "demo"}
    assert expected <= names


@pytest.mark.parametrize("parser", ALL, ids=lambda p: p.prog)
def test_every_argument_has_help_showing_its_default(parser: argparse.ArgumentParser) -> None:
    text = " ".join(parser.format_help().split())  # undo line wrapping
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        name = action.dest if not action.option_strings else action.option_strings[0]
        assert action.help, f"{parser.prog} {name} has no help"
        default = action.default
        if action.nargs != 0 and default not in (None, argparse.SUPPRESS):  # not a flag
            assert f"default: {default}" in text, f"{parser.prog} {name}: default {default!r}"
    assert "``" not in text  # no reST markup in what a terminal shows


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"nacos-async {nacos_async.__version__}"
