"""Connection slots: how many requests may be on the wire at once (``pool_size``).

A free slot is taken with plain arithmetic on ``free`` (no call, no await: every request takes
one); only when none is free does a request wait, first come first served. A released slot goes
straight to the longest waiter, so ``free > 0`` means nobody waits. A waiter cancelled just as it
was handed a slot passes it on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class Slots:
    """A counting semaphore whose fast paths the caller inlines: ``if slots.free: slots.free -=
    1``, else ``await slots.take()``; when done, ``slots.free += 1`` if nobody waits (``not
    slots.waiters``), else ``slots.release()``."""

    __slots__ = ("free", "waiters")

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def take(self) -> None:
        """Wait for a slot (call only when none is free)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # release() may have dropped it
                    self.waiters.remove(waiter)
            raise

    def release(self) -> None:
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to it directly
                return
        self.free += 1
