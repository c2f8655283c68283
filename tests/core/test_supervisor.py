"""The supervisor: one failing task ends alone and is reported; stop() works from any task."""

from __future__ import annotations

import asyncio
import logging

import pytest

from nacos_async.background import Supervisor
from nacos_async.events import Events
from nacos_async.testing import FakeClock


async def test_a_crashing_task_is_reported_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(start=0.0)
    events = Events()
    supervisor = Supervisor(clock=clock, events=events)
    supervisor.start()
    turns: list[float] = []

    async def step() -> float:
        turns.append(clock.now())
        return 1.0

    async def broken() -> None:
        raise RuntimeError("bug in a one-off task")

    loop = supervisor.start_loop("ticker", step)
    supervisor.spawn(broken, name="one-off")
    await clock.settle()
    await clock.advance(3.0)
    assert turns == [0.0, 1.0, 2.0, 3.0]  # the loop went on
    assert loop.running
    assert supervisor.crashes == ["one-off: RuntimeError('bug in a one-off task')"]
    assert events.stats.background_crashes == 1
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    later = supervisor.start_loop("later", step)  # still accepts work
    await clock.settle()
    assert later.running
    await supervisor.stop()  # no ExceptionGroup
    assert not loop.running and not later.running


async def test_a_failing_step_backs_off_and_the_loop_never_dies() -> None:
    clock = FakeClock(start=0.0)
    supervisor = Supervisor(clock=clock, events=Events())
    supervisor.start()
    calls = 0

    async def flaky() -> float:
        nonlocal calls
        calls += 1
        if calls <= 5:
            raise ConnectionError("down")
        return 10.0

    loop = supervisor.start_loop("flaky", flaky)
    for _ in range(200):
        await clock.advance(0.5)
    assert calls >= 6 and loop.running and loop.failures == 0
    await supervisor.stop()


async def test_stop_from_inside_a_supervised_task_finishes_and_ends_every_task() -> None:
    clock = FakeClock(start=0.0)
    supervisor = Supervisor(clock=clock, events=Events())
    supervisor.start()
    stopped = asyncio.Event()

    async def sleeper() -> float:
        return 1000.0

    async def stopper() -> float:
        await supervisor.stop(timeout=1)  # from inside its own loop: must not wait for itself
        stopped.set()
        return 1.0

    other = supervisor.start_loop("sleeper", sleeper)
    own = supervisor.start_loop("stopper", stopper)
    await asyncio.wait_for(stopped.wait(), 5)
    await clock.settle()
    assert not other.running and not own.running
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_wake_starts_the_next_turn_at_once() -> None:
    clock = FakeClock(start=0.0)
    supervisor = Supervisor(clock=clock, events=Events())
    supervisor.start()
    turns: list[float] = []

    async def step() -> float:
        turns.append(clock.now())
        return 100.0

    loop = supervisor.start_loop("slow", step)
    await clock.settle()
    loop.wake()
    await clock.settle()
    assert turns == [0.0, 0.0]
    await supervisor.stop()


async def test_a_task_that_ignores_cancellation_does_not_hang_stop() -> None:
    clock = FakeClock(start=0.0)
    supervisor = Supervisor(clock=clock, events=Events())
    supervisor.start()
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # a buggy callback swallowing cancellation

    supervisor.spawn(stubborn, name="stubborn")
    await asyncio.sleep(0)
    await asyncio.wait_for(supervisor.stop(timeout=0.2), 5)  # bounded, and logs the laggard
    release.set()
    await asyncio.sleep(0)
