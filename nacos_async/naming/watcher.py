"""Polling subscriptions to services: emit only real changes, never an empty list by accident.

Each watched (service, group, clusters) gets one supervised polling loop, shared by all its
iterators and callbacks. A poll that differs from the last list delivered (instances added,
removed or changed) is delivered; with push-empty protection on, a non-empty list is never
replaced by an empty one (a server restart or a partial outage looks exactly like that).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nacos_async._latest import LatestSlot
from nacos_async.background import LoopHandle
from nacos_async.naming._protocol import NamingProtocol
from nacos_async.naming.models import Instance

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

logger = logging.getLogger("nacos_async")

Listener = Callable[[list[Instance]], Awaitable[None] | None]
WatchKey = tuple[str, str, tuple[str, ...]]


def _ordered(instances: list[Instance]) -> list[Instance]:
    return sorted(instances, key=lambda i: (i.cluster_name, i.ip, i.port))


class ServiceWatch:
    """One polled service and everyone watching it."""

    def __init__(self, key: WatchKey, protocol: NamingProtocol, client: NacosClient) -> None:
        self.key = key
        self._protocol = protocol
        self._client = client
        self.current: list[Instance] | None = None
        self.slots: set[LatestSlot[list[Instance]]] = set()
        self.listeners: list[Listener] = []
        self._handle: LoopHandle | None = None
        self._protecting = False

    @property
    def idle(self) -> bool:
        return not self.slots and not self.listeners

    def ensure_running(self) -> None:
        if self._handle is None:
            service, group, _ = self.key
            self._handle = self._client.supervisor.start_loop(f"watch:{group}/{service}", self.poll)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        for slot in self.slots:
            slot.close()
        self.slots.clear()
        self.listeners.clear()

    async def poll(self) -> float:
        service, group, clusters = self.key
        settings = self._client.settings
        instances = await self._protocol.list_instances(
            service, group, list(clusters), healthy_only=False
        )
        interval = settings.naming_poll_interval
        instances = _ordered(instances)
        if not instances and self.current and settings.push_empty_protection:
            if not self._protecting:
                logger.warning(
                    "push-empty protection: %s@@%s answered no instances; keeping %d",
                    group, service, len(self.current),
                )  # fmt: skip
                self._protecting = True
            return interval
        self._protecting = False
        if instances == self.current:
            return interval
        if self.current is None and not instances and settings.push_empty_protection:
            return interval  # nothing to tell yet
        self.current = instances
        self._client.events.emit("service_changed", service=service, count=len(instances))
        for slot in self.slots:
            slot.put(list(instances))
        for listener in list(self.listeners):
            try:
                result = listener(list(instances))
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("service listener %r failed", listener)
        return interval
