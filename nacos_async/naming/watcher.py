"""Subscriptions to services: emit only real changes, never an empty list by accident.

Each watched (service, group, clusters) gets one supervised loop, shared by all its iterators
and callbacks, that takes each new list from the backend (a poll over HTTP, a push over gRPC).
A list that differs from the last one delivered (instances added, removed or changed) is
delivered; with push-empty protection on, a non-empty list is never replaced by an empty one (a
server restart or a partial outage looks exactly like that).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

import anyio

from nacos_async._latest import LatestSlot
from nacos_async._runtime import Runtime
from nacos_async.background import LoopHandle
from nacos_async.naming.backend import NamingBackend, WatchKey
from nacos_async.naming.models import Instance

logger = logging.getLogger("nacos_async")

Listener = Callable[[list[Instance]], Awaitable[None] | None]


def _ordered(instances: list[Instance]) -> list[Instance]:
    return sorted(instances, key=lambda i: (i.cluster_name, i.ip, i.port))


class ServiceWatch:
    """One watched service and everyone watching it."""

    def __init__(self, key: WatchKey, backend: NamingBackend, runtime: Runtime) -> None:
        self.key = key
        self._backend = backend
        self._runtime = runtime
        self.current: list[Instance] | None = None
        self.slots: set[LatestSlot[list[Instance]]] = set()
        self.listeners: list[Listener] = []
        self._handle: LoopHandle | None = None
        self._first = True
        self._protecting = False
        self.ready = anyio.Event()  # set once the first list (the baseline) is known
        self._starting = anyio.Lock()

    @property
    def idle(self) -> bool:
        return not self.slots and not self.listeners

    async def start(self) -> None:
        """Read the current list now (errors reach the caller), then follow it."""
        async with self._starting:
            if not self.ready.is_set():
                first = await self._backend.next_instances(self.key, first=True)
                self.current = _ordered(first)  # the baseline: what "a change" is measured against
                self._first = False
                self.ready.set()
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._handle is None:
            service, group, _ = self.key
            self._handle = self._runtime.supervisor.start_loop(
                f"watch:{group}/{service}", self.poll
            )

    async def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            await self._backend.unwatch(self.key)
        for slot in self.slots:
            slot.close()
        self.slots.clear()
        self.listeners.clear()

    async def poll(self) -> float:
        try:
            instances = _ordered(await self._backend.next_instances(self.key, first=self._first))
        except Exception:
            self._first = True  # after the supervisor's backoff, ask at once
            raise
        self._first = False
        await self.offer(instances)
        return 0.0  # the backend paces: a poll interval, or the next push

    async def offer(self, instances: list[Instance]) -> None:
        """Deliver ``instances`` if they are a real change."""
        service, group, _ = self.key
        protection = self._runtime.settings.push_empty_protection
        if not instances and self.current and protection:
            if not self._protecting:
                logger.warning(
                    "push-empty protection: %s@@%s answered no instances; keeping %d",
                    group, service, len(self.current),
                )  # fmt: skip
                self._protecting = True
            return
        self._protecting = False
        if instances == self.current:
            return
        self.current = instances
        self._runtime.events.emit("service_changed", service=service, count=len(instances))
        for slot in self.slots:
            slot.put(list(instances))
        for listener in list(self.listeners):
            try:
                result = listener(list(instances))
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("service listener %r failed", listener)
