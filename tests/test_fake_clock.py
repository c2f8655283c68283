from __future__ import annotations

import anyio
import pytest

from nacos_async.testing import FakeClock


async def test_sleepers_wake_in_deadline_order_at_their_deadline() -> None:
    clock = FakeClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper, "late", 5.0)
        tg.start_soon(sleeper, "early", 2.0)
        await clock.settle()
        assert clock.sleepers == 2
        await clock.advance(1.0)
        assert woke == []
        await clock.advance(10.0)

    assert woke == [("early", 102.0), ("late", 105.0)]
    assert clock.now() == 111.0


async def test_advance_to_next_jumps_to_earliest_deadline() -> None:
    clock = FakeClock(start=0.0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(clock.sleep, 7.5)
        await clock.settle()
        assert await clock.advance_to_next() == 7.5
    assert clock.sleepers == 0


async def test_moving_backwards_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        await FakeClock().advance(-1)
