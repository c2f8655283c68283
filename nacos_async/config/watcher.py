"""One watcher per client for every watched config, whatever detects the changes.

The backend says which keys may have changed (a long-poll answer, an MD5 poll, a push); the
watcher reads them and delivers real changes. A failed turn raises, so the supervisor backs off;
the next turn first re-reads every key, so nothing published during an outage is missed. Values
reach consumers through latest-value slots and listeners, in order per key.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio

from nacos_async._concurrent import run_all
from nacos_async._latest import LatestSlot
from nacos_async._runtime import Runtime
from nacos_async.background import LoopHandle
from nacos_async.config.backend import ConfigBackend
from nacos_async.config.models import ConfigChange, ConfigItem, ConfigKey
from nacos_async.config.snapshot import Snapshots

logger = logging.getLogger("nacos_async")

Listener = Callable[[ConfigChange], Awaitable[None] | None]


@dataclass(eq=False)
class _Watched:
    key: ConfigKey
    md5: str = ""
    content: str | None = None
    fresh: bool = True
    slots: set[LatestSlot[ConfigChange]] = field(default_factory=set)
    listeners: list[Listener] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not self.slots and not self.listeners

    def change(self) -> ConfigChange:
        key = self.key
        return ConfigChange(key.data_id, key.group, key.namespace, self.content, self.md5)


class ConfigWatcher:
    """Keeps every watched key's last value and tells its consumers of changes."""

    def __init__(
        self, runtime: Runtime, backend: ConfigBackend, snapshots: Snapshots | None
    ) -> None:
        self._runtime = runtime
        self._backend = backend
        self._snapshots = snapshots
        self._keys: dict[ConfigKey, _Watched] = {}
        self._handle: LoopHandle | None = None
        self._turn_scope: anyio.CancelScope | None = None
        self._resync = False
        self._last_ok_at: float | None = None  # when the backend last answered a turn

    def health(self) -> dict[str, Any]:
        handle = self._handle
        failing = handle is not None and handle.failures > 0
        since = self._last_ok_at
        return {
            "watched": len(self._keys),
            "mode": self._backend.watch_mode,
            "failing_turns": handle.failures if handle is not None else 0,
            # how far behind the server the watcher may be: seconds since it last heard from it
            "failing_for": round(self._runtime.clock.now() - since, 3)
            if failing and since is not None
            else None,
            "last_error": handle.last_error if handle is not None else None,
            "problems": [f"config watcher failing: {handle.last_error}"]
            if handle is not None and handle.failures >= 3
            else [],
        }

    async def subscribe(self, key: ConfigKey, slot: LatestSlot[ConfigChange] | None = None,
                        listener: Listener | None = None) -> ConfigChange:  # fmt: skip
        """Watch ``key`` (read now if new) for a slot and/or a listener; returns its value."""
        watched = self._keys.get(key)
        if watched is None:
            item = await self._backend.get(key)
            watched = self._keys.setdefault(key, _Watched(key))
            if item is not None and not watched.md5:
                watched.md5, watched.content = item.md5, item.content
            if self._turn_scope is not None:
                self._turn_scope.cancel()  # ask again now, including the new key
        if slot is not None:
            watched.slots.add(slot)
        if listener is not None:
            watched.listeners.append(listener)
        if self._handle is None:
            self._handle = self._runtime.supervisor.start_loop("config-watch", self.step)
        return watched.change()

    def unsubscribe(self, key: ConfigKey, slot: LatestSlot[ConfigChange] | None = None,
                    listener: Listener | None = None) -> None:  # fmt: skip
        watched = self._keys.get(key)
        if watched is None:
            return
        if slot is not None:
            watched.slots.discard(slot)
        if listener is not None and listener in watched.listeners:
            watched.listeners.remove(listener)
        if watched.idle:
            del self._keys[key]

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        for watched in self._keys.values():
            for slot in watched.slots:
                slot.close()
        self._keys.clear()

    async def step(self) -> float:
        if not self._keys:
            return 1.0
        try:
            if self._resync:
                await self._refresh(list(self._keys))
                self._resync = False
            watched = list(self._keys.values())
            fresh = any(w.fresh for w in watched)
            with anyio.CancelScope() as scope:
                self._turn_scope = scope
                try:
                    changed = await self._backend.changes(
                        {w.key: w.md5 for w in watched}, fresh=fresh
                    )
                finally:
                    self._turn_scope = None
            if scope.cancelled_caught:
                return 0.0  # a key was added: ask again with it
            self._last_ok_at = self._runtime.clock.now()
            for w in watched:
                w.fresh = False
            await self._refresh(changed)
            return 0.0
        except Exception:
            self._resync = True  # after any outage, re-read every key before going on
            raise

    async def _refresh(self, keys: Iterable[ConfigKey]) -> None:
        """Read ``keys`` concurrently (a burst of changes costs one round trip, not one per key),
        then deliver in this task, so that a listener may close the client; each key is read
        once per turn, so its values stay in order. Raises the first failed read, after
        delivering the others."""
        read: dict[ConfigKey, tuple[int, ConfigItem | None]] = {}

        async def fetch(key: ConfigKey) -> None:
            ticket = self._snapshots.ticket() if self._snapshots is not None else 0
            read[key] = (ticket, await self._backend.get(key))

        failure: Exception | None = None
        try:
            await run_all(functools.partial(fetch, key) for key in keys)
        except Exception as exc:
            failure = exc
        for key, (ticket, item) in read.items():
            watched = self._keys.get(key)
            if watched is not None:
                await self.deliver(watched, item, ticket)
        if failure is not None:
            raise failure

    async def deliver(self, watched: _Watched, item: ConfigItem | None, ticket: int) -> None:
        md5 = item.md5 if item is not None else ""
        if md5 == watched.md5:
            return
        watched.md5, watched.content = md5, item.content if item is not None else None
        key = watched.key
        if self._snapshots is not None:
            self._snapshots.record(key, item, ticket)
        change = watched.change()
        self._runtime.events.emit("config_changed", config=str(key), deleted=item is None)
        for slot in list(watched.slots):
            slot.put(change)
        for listener in list(watched.listeners):
            try:
                result = listener(change)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("config listener %r failed for %s", listener, key)
