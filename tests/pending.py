"""Marks for the tests that show a client bug of issue 15 while the client fix is pending.

Each such test is written as the client SHOULD behave and marked strict: it runs and fails
today, and the moment the fix lands it passes, which fails the run until the mark is removed.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from nacos_async.testing import FLAVORS, Flavor

REASON = "issue 15: client fix pending"
pending_fix = pytest.mark.xfail(strict=True, reason=REASON)
V3_FLAVORS: tuple[Flavor, ...] = tuple(f for f in FLAVORS if f != "2.x")


def flavors(pending: Iterable[str], among: Iterable[Flavor] = FLAVORS) -> list[object]:
    """``among`` as parameters, those in ``pending`` marked with ``pending_fix``."""
    pending = set(pending)
    return [pytest.param(f, marks=pending_fix) if f in pending else f for f in among]


def mark_pending(request: pytest.FixtureRequest, when: bool = True) -> None:
    """Mark the running test as showing a pending client fix (for fixture-driven flavors)."""
    if when:
        request.node.add_marker(pending_fix)
