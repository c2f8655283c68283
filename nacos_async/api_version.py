"""Which Nacos HTTP API family a client speaks: v3 first, v1 when the server lacks v3.

``auto`` remembers the last family that worked for this client and switches when a server
answers that it does not serve a path (framework 404, 405, 410, 501), so a cluster in a rolling
upgrade keeps working. ``v1``/``v3`` pin the family.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar, TypeVarTuple, Unpack

from nacos_async.errors import NacosApiUnavailableError
from nacos_async.events import Events

T = TypeVar("T")
Args = TypeVarTuple("Args")
Family = Literal["v1", "v3"]


class ApiVersions:
    """Picks v3 or v1 per call and remembers what the server serves."""

    def __init__(self, setting: Literal["auto", "v1", "v3"], events: Events) -> None:
        self._pinned = setting != "auto"
        self._preferred: Family = "v1" if setting == "v1" else "v3"
        self._events = events

    @property
    def preferred(self) -> Family:
        return self._preferred

    async def call(
        self,
        v3: Callable[[Unpack[Args]], Awaitable[T]],
        v1: Callable[[Unpack[Args]], Awaitable[T]],
        *args: *Args,
    ) -> T:
        """Run the preferred family's call (with ``args``); in ``auto``, fall back to the other
        one once."""
        first = self._preferred
        try:
            return await (v3 if first == "v3" else v1)(*args)
        except NacosApiUnavailableError:
            if self._pinned:
                raise
        other: Family = "v1" if first == "v3" else "v3"
        result = await (v3 if other == "v3" else v1)(*args)
        self._preferred = other
        self._events.emit("api_version", version=other)
        return result
