"""Collects the fault matrix's figures and prints them as a table at the end of the run."""

from __future__ import annotations

from typing import Any

import pytest

MATRIX: dict[str, dict[str, Any]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MATRIX:
        return
    write = terminalreporter.write_line
    write("")
    write("fault matrix (workload: concurrent config reads, a watcher, a heartbeating instance)")
    write(
        f"{'fault':<48} {'result':<6} {'reads':>6} {'caller errors':>13} {'watcher':>9} {'instance':>9} {'logins':>6} {'replays':>7}"
    )
    for fault, row in MATRIX.items():
        write(
            f"{fault:<48} {row['result']:<6} {row['reads']:>6} {row['errors']:>13} "
            f"{row['watcher']:>9} {row['instance']:>9} {row['logins']:>6} {row['replays']:>7}"
        )


@pytest.fixture
def matrix() -> dict[str, dict[str, Any]]:
    return MATRIX
