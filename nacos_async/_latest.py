"""Latest-value delivery for watchers: a slow consumer gets the newest value, never a backlog.

Each subscriber owns a ``LatestSlot``: ``put`` replaces any undelivered value, so memory stays
bounded and the last value put is always the next one delivered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds at most one undelivered value for one consumer."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._pending = False
        self._closed = False
        self._event = anyio.Event()

    def put(self, value: T) -> None:
        self._value = value
        self._pending = True
        self._event.set()

    def close(self) -> None:
        self._closed = True
        self._event.set()

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aiter__(self) -> AsyncIterator[T]:
        while True:
            if not self._pending:
                if self._closed:
                    return
                await self._event.wait()
                self._event = anyio.Event()
                continue
            value = self._value
            self._pending = False
            self._value = None
            yield value  # type: ignore[misc]
