"""A manually driven clock for tests: time moves only when the test says so."""

from __future__ import annotations

import heapq
import itertools

import anyio
import anyio.lowlevel


class FakeClock:
    """A ``Clock`` whose time moves only through ``advance``.

    Sleepers wake in deadline order, each seeing ``now()`` equal to its own deadline, so a
    background loop that sleeps until a computed moment observes exactly that moment.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), event))
        await event.wait()

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting (cancelled ones may linger until their deadline)."""
        return sum(1 for _, _, event in self._sleepers if not event.is_set())

    @property
    def next_deadline(self) -> float | None:
        """The earliest pending wake-up time, or None."""
        return self._sleepers[0][0] if self._sleepers else None

    async def advance(self, seconds: float, *, settle: int = 50) -> None:
        """Move time forward, waking every sleeper due on the way, in order."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards: {seconds!r}")
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, event = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            event.set()
            await self.settle(settle)
        self._now = target
        await self.settle(settle)

    async def advance_to_next(self, *, settle: int = 50) -> float:
        """Jump to the earliest pending deadline and wake it; returns the new time."""
        deadline = self.next_deadline
        if deadline is not None:
            await self.advance(max(0.0, deadline - self._now), settle=settle)
        return self._now

    @staticmethod
    async def settle(rounds: int = 50) -> None:
        """Let other tasks run a few scheduling rounds (no real time passes)."""
        for _ in range(rounds):
            await anyio.lowlevel.checkpoint()

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, sleepers={self.sleepers})"
