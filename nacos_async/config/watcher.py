"""One poller per client for every watched config.

Strategy, chosen once by what the server answers:
- long-poll (Nacos 1.x-3.1): ``POST /v1/cs/configs/listener`` in batches of at most 3,000 keys,
  held by the server until something changes, then the changed keys are read;
- MD5 polling (Nacos 3.2+, no HTTP listener): read each key and compare MD5s, round-robin, never
  more than ``config_poll_budget`` reads per second however many keys are watched.
A failed turn raises, so the supervisor backs off; the next turn first re-reads every key, so
nothing published during an outage is missed. Values reach consumers through latest-value slots
and listeners, in order per key.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from nacos_async._concurrent import run_all
from nacos_async._latest import LatestSlot
from nacos_async.background import LoopHandle
from nacos_async.config._protocol import ConfigProtocol
from nacos_async.config.models import ConfigChange, ConfigItem, ConfigKey
from nacos_async.errors import NacosApiUnavailableError

if TYPE_CHECKING:
    from nacos_async.client import NacosClient
    from nacos_async.config.snapshot import ConfigFiles

logger = logging.getLogger("nacos_async")

Listener = Callable[[ConfigChange], Awaitable[None] | None]
BATCH = 3000


@dataclass(eq=False)
class Watched:
    key: ConfigKey
    md5: str = ""
    content: str | None = None
    fresh: bool = True
    slots: set[LatestSlot[ConfigChange]] = field(default_factory=set)
    listeners: list[Listener] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not self.slots and not self.listeners


class ConfigWatcher:
    """Keeps every watched key's last value and tells its consumers of changes."""

    def __init__(
        self, protocol: ConfigProtocol, client: NacosClient, snapshot: ConfigFiles | None
    ) -> None:
        self._protocol = protocol
        self._client = client
        self._snapshot = snapshot
        self.keys: dict[ConfigKey, Watched] = {}
        self.mode: str | None = None  # "long-poll" or "md5", learned on the first turn
        self._handle: LoopHandle | None = None
        self._poll_scope: anyio.CancelScope | None = None
        self._resync = False
        self._cursor = 0
        self._round_started = 0.0

    async def watch(self, key: ConfigKey) -> Watched:
        """Start watching ``key`` from its current value (read now)."""
        watched = self.keys.get(key)
        if watched is None:
            item = await self._protocol.get(key)
            watched = self.keys.setdefault(key, Watched(key))
            if item is not None and not watched.md5:
                watched.md5, watched.content = item.md5, item.content
            if self._poll_scope is not None:
                self._poll_scope.cancel()  # re-poll now, including the new key
        if self._handle is None:
            self._handle = self._client.supervisor.start_loop("config-watch", self.step)
        return watched

    def drop_if_idle(self, watched: Watched) -> None:
        if watched.idle and self.keys.get(watched.key) is watched:
            del self.keys[watched.key]

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        for watched in self.keys.values():
            for slot in watched.slots:
                slot.close()
        self.keys.clear()

    async def step(self) -> float:
        if not self.keys:
            return 1.0
        try:
            if self._resync:
                await self._read_all()
                self._resync = False
            if self.mode != "md5":
                try:
                    return await self._long_poll()
                except NacosApiUnavailableError:
                    self.mode = "md5"
                    self._client.events.emit("config_watch_mode", mode="md5")
            return await self._md5_poll()
        except Exception:
            self._resync = True  # after any outage, re-read every key before going on
            raise

    async def _long_poll(self) -> float:
        settings = self._client.settings
        watched = list(self.keys.values())
        no_hangup = any(w.fresh for w in watched)
        changed: set[ConfigKey] = set()
        hold_ms = int(settings.long_poll_timeout * 1000)

        async def batch(part: list[Watched]) -> None:
            probes = [(w.key, w.md5) for w in part]
            changed.update(
                await self._protocol.listen(probes, hold_ms=hold_ms, no_hangup=no_hangup)
            )

        with anyio.CancelScope() as scope:
            self._poll_scope = scope
            try:
                await run_all(
                    functools.partial(batch, watched[start : start + BATCH])
                    for start in range(0, len(watched), BATCH)
                )
            finally:
                self._poll_scope = None
        if scope.cancelled_caught:
            return 0.0  # a key was added: poll again with it
        self.mode = "long-poll"
        for w in watched:
            w.fresh = False
        for key in changed:
            await self._refresh(key)
        return 0.0

    async def _md5_poll(self) -> float:
        settings = self._client.settings
        clock = self._client.clock
        keys = list(self.keys)
        if self._cursor == 0:
            self._round_started = clock.now()
        chunk = keys[self._cursor : self._cursor + max(1, math.floor(settings.config_poll_budget))]
        await run_all(functools.partial(self._refresh, key) for key in chunk)
        self._cursor += len(chunk)
        pace = len(chunk) / settings.config_poll_budget
        if self._cursor >= len(keys):
            self._cursor = 0
            round_end = self._round_started + settings.config_poll_interval
            return max(pace, round_end - clock.now())
        return pace

    async def _read_all(self) -> None:
        await run_all(functools.partial(self._refresh, key) for key in list(self.keys))

    async def _refresh(self, key: ConfigKey) -> None:
        item = await self._protocol.get(key)
        watched = self.keys.get(key)
        if watched is not None:
            await self.deliver(watched, item)

    async def deliver(self, watched: Watched, item: ConfigItem | None) -> None:
        md5 = item.md5 if item is not None else ""
        if md5 == watched.md5:
            return
        watched.md5, watched.content = md5, item.content if item is not None else None
        key = watched.key
        if self._snapshot is not None:
            if item is None:
                self._snapshot.remove(key)
            else:
                self._snapshot.write(key, item.content)
        change = ConfigChange(key.data_id, key.group, key.namespace, watched.content, md5)
        self._client.events.emit("config_changed", config=str(key), deleted=item is None)
        for slot in list(watched.slots):
            slot.put(change)
        for listener in list(watched.listeners):
            try:
                result = listener(change)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("config listener %r failed for %s", listener, key)
