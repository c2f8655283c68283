"""Time as a seam: everything time-based asks a ``Clock``, so tests can move time by hand."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio


class Clock(Protocol):
    """Monotonic time and sleeping; the only source of time in the client."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences are meaningful)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` on this clock's scale."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic`` and ``anyio.sleep``."""

    # time.monotonic itself, not a method calling it: read several times per request
    now: Callable[[], float] = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK: Clock = SystemClock()


async def within(clock: Clock, deadline: float, wait: Callable[[], Awaitable[object]]) -> bool:
    """Await ``wait()`` unless ``clock`` reaches ``deadline`` first; False if it did.

    Waits measured on the injected clock, so a test's fake clock decides when a deadline passes.
    """
    if deadline == math.inf:
        await wait()
        return True
    remaining = max(0.0, deadline - clock.now())
    if isinstance(clock, SystemClock):
        with anyio.move_on_after(remaining):
            await wait()
            return True
        return False
    finished = False
    async with anyio.create_task_group() as tg:

        async def alarm() -> None:
            await clock.sleep(deadline - clock.now())  # the deadline, wherever time is by now
            tg.cancel_scope.cancel()

        tg.start_soon(alarm)
        await wait()
        finished = True
        tg.cancel_scope.cancel()
    return finished
