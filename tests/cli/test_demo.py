"""``nacos-async demo`` runs to the end with no surfaced error and prints its table."""

from __future__ import annotations

import json
import re

import pytest

from nacos_async.cli import main


def test_demo_runs_across_lifetimes_and_a_rotation(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--duration", "6", "--token-ttl", "1", "--readers", "10", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert code == 0
    assert figures["errors_surfaced"] == 0
    assert figures["logins"] >= 4  # one per lifetime, plus the one forced by the rotation
    assert figures["proactive_refreshes"] >= 3
    assert figures["replays"] >= 1 and figures["forbidden_answers_absorbed"] >= 1
    assert figures["config_changes_seen"] >= 5 and figures["watcher_has_latest"] is True
    assert figures["instance_kept"] is True
    if figures["transport"] == "http":
        assert figures["heartbeats"] >= 1
    else:  # the connection keeps it
        assert (figures["transport"], figures["heartbeats"]) == ("grpc", 0)


def test_demo_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["demo", "--duration", "2", "--token-ttl", "1", "--readers", "2", "--flavor", "3.2"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "OK: no error reached a caller" in out
    header, _, *rows = out.split("\n\n")[0].splitlines()
    assert header.split() == ["figure", "value", "meaning"]
    meaning_at = header.index("meaning")
    for row in rows:  # every figure is explained
        assert len(row) > meaning_at + 5 and row[meaning_at - 2 : meaning_at] == "  ", row
    assert re.search(r"^403s surfaced +0 +", out, re.M)
    assert re.search(r"^forbidden answers absorbed +\d+ +403s the server sent", out, re.M)


def test_demo_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--duration", "0"]) == 2
    assert "must be > 0" in capsys.readouterr().err
