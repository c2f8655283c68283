"""Connection slots: free ones taken at once, the rest handed over in order, none ever lost."""

from __future__ import annotations

import asyncio

import pytest

from nacos_async._slots import Slots


def done_when_released(slots: Slots) -> None:
    if slots.waiters:
        slots.release()
    else:
        slots.free += 1


async def test_waiters_get_released_slots_first_come_first_served() -> None:
    slots = Slots(1)
    slots.free -= 1  # the one slot is taken
    order: list[str] = []

    async def wait(name: str) -> None:
        await slots.take()
        order.append(name)

    first = asyncio.create_task(wait("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(wait("second"))
    await asyncio.sleep(0)
    done_when_released(slots)
    await first
    assert order == ["first"] and slots.free == 0  # handed over, never free in between
    done_when_released(slots)
    await second
    assert order == ["first", "second"]
    done_when_released(slots)
    assert slots.free == 1 and not slots.waiters


async def test_a_waiter_cancelled_before_its_turn_takes_no_slot() -> None:
    slots = Slots(1)
    slots.free -= 1
    waiter = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    done_when_released(slots)
    assert slots.free == 1 and not slots.waiters


async def test_a_waiter_cancelled_as_it_is_handed_a_slot_passes_it_on() -> None:
    slots = Slots(1)
    slots.free -= 1
    unlucky = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    next_in_line = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    slots.release()  # handed to the unlucky one...
    unlucky.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await unlucky
    await asyncio.wait_for(next_in_line, 1)  # the slot reached the next waiter
    done_when_released(slots)
    assert slots.free == 1 and not slots.waiters
