"""Events: counted always, built only when someone listens."""

from __future__ import annotations

import logging

import pytest

from nacos_async.events import Event, Events


def test_requests_are_counted_without_a_hook_or_debug_logging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = Events()
    logging.getLogger("nacos_async").setLevel(logging.INFO)
    assert not events.wants("request")
    events.count("request")
    assert events.stats.requests == 1
    seen: list[Event] = []
    events.add_hook(seen.append)
    assert events.wants("request")
    events.emit("request", status=200)
    assert events.stats.requests == 2 and seen[0].attrs == {"status": 200}
