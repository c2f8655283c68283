"""``client.naming``: register with heartbeats, deregister, list, select, watch."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from nacos_async._latest import LatestSlot
from nacos_async._runtime import Runtime
from nacos_async.errors import NacosError, NacosNotFoundError, clip
from nacos_async.names import DEFAULT_CLUSTER, DEFAULT_GROUP
from nacos_async.naming import validation as check
from nacos_async.naming.backend import NamingBackend, WatchKey
from nacos_async.naming.models import Instance, InstanceSpec
from nacos_async.naming.select import weighted_choice
from nacos_async.naming.watcher import Listener, ServiceWatch

logger = logging.getLogger("nacos_async")


@dataclass(frozen=True)
class ServicePage:
    """One page of service names, and how many there are in all."""

    count: int
    names: list[str]


def _spec(
    service: str,
    ip: str,
    port: int,
    group: str,
    cluster: str,
    *,
    weight: float = 1.0,
    metadata: Mapping[str, str] | None = None,
    ephemeral: bool = True,
    enabled: bool = True,
    healthy: bool = True,
) -> InstanceSpec:
    """An instance spec with every part checked (a ValueError names the bad one)."""
    return InstanceSpec(
        service=check.service_name(service),
        group=check.group_name(group),
        ip=check.ip_address(ip),
        port=check.port(port),
        cluster=check.cluster_name(cluster),
        weight=check.weight(weight),
        enabled=bool(enabled),
        healthy=bool(healthy),
        ephemeral=bool(ephemeral),
        metadata=check.metadata(metadata),
    )


class NamingService:
    """Service discovery for one client; reached as ``client.naming``."""

    def __init__(self, runtime: Runtime, backend: NamingBackend) -> None:
        self._runtime = runtime
        self._backend = backend
        self._rng = runtime.rng
        self._owned: dict[tuple[str, str, str, str, int], InstanceSpec] = {}
        self._watches: dict[WatchKey, ServiceWatch] = {}
        self._failed_deregistrations: list[str] = []
        runtime.add_closer(self._close)
        runtime.add_health("naming", self._health)

    @property
    def registered(self) -> list[InstanceSpec]:
        """The instances this client registered and keeps alive."""
        return list(self._owned.values())

    def _health(self) -> dict[str, Any]:
        part = self._backend.health()
        problems = list(part.get("problems", []))
        if self._failed_deregistrations:
            problems.append(f"deregistration failed: {', '.join(self._failed_deregistrations)}")
        return part | {
            "registered": [f"{s.group}@@{s.service} {s.ip}:{s.port}" for s in self._owned.values()],
            "watched_services": len(self._watches),
            "failed_deregistrations": list(self._failed_deregistrations),
            "problems": problems,
        }

    async def register_instance(
        self,
        service: str,
        ip: str,
        port: int,
        *,
        group: str = DEFAULT_GROUP,
        cluster: str = DEFAULT_CLUSTER,
        weight: float = 1.0,
        metadata: Mapping[str, str] | None = None,
        ephemeral: bool = True,
        enabled: bool = True,
        healthy: bool = True,
    ) -> None:
        """Register an instance; an ephemeral one is kept alive by heartbeats until deregistered."""
        spec = _spec(service, ip, port, group, cluster, weight=weight, metadata=metadata,
                     ephemeral=ephemeral, enabled=enabled, healthy=healthy)  # fmt: skip
        await self._backend.register(spec)
        self._owned[spec.key] = spec

    async def deregister_instance(
        self,
        service: str,
        ip: str,
        port: int,
        *,
        group: str = DEFAULT_GROUP,
        cluster: str = DEFAULT_CLUSTER,
        ephemeral: bool = True,
    ) -> None:
        """Stop heartbeats and remove the instance (no error if the server lacks it)."""
        spec = _spec(service, ip, port, group, cluster, ephemeral=ephemeral)
        self._owned.pop(spec.key, None)
        await self._backend.deregister(spec)

    async def update_instance(
        self,
        service: str,
        ip: str,
        port: int,
        *,
        group: str = DEFAULT_GROUP,
        cluster: str = DEFAULT_CLUSTER,
        weight: float = 1.0,
        metadata: Mapping[str, str] | None = None,
        enabled: bool = True,
        ephemeral: bool = True,
    ) -> None:
        """Change weight, metadata or enabled (on Nacos 3.x an admin API: credentials needed)."""
        spec = _spec(service, ip, port, group, cluster, weight=weight, metadata=metadata,
                     ephemeral=ephemeral, enabled=enabled)  # fmt: skip
        await self._backend.update(spec)
        if spec.key in self._owned:
            self._owned[spec.key] = spec

    async def list_instances(
        self,
        service: str,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
        healthy_only: bool = False,
    ) -> list[Instance]:
        """The service's enabled instances (healthy ones only if asked)."""
        return await self._backend.list_instances(
            check.service_name(service),
            check.group_name(group),
            [check.cluster_name(c) for c in clusters or ()],
            healthy_only,
        )

    async def select_instance(
        self,
        service: str,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
    ) -> Instance:
        """A healthy, enabled instance, drawn at random in proportion to its weight."""
        chosen = weighted_choice(
            await self.list_instances(service, group=group, clusters=clusters), self._rng
        )
        if chosen is None:
            raise NacosNotFoundError(
                f"no healthy instance of {clip(group)}@@{clip(service)} to select"
            )
        return chosen

    async def list_services(
        self, *, group: str = DEFAULT_GROUP, page: int = 1, page_size: int = 100
    ) -> ServicePage:
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValueError(f"page must be an integer >= 1, got {clip(page)}")
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= 500
        ):
            raise ValueError(f"page_size must be an integer from 1 to 500, got {clip(page_size)}")
        count, names = await self._backend.list_services(check.group_name(group), page, page_size)
        return ServicePage(count, names)

    async def watch(
        self,
        service: str,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
        initial: bool = False,
    ) -> AsyncGenerator[list[Instance], None]:
        """Yield the instance list after every real change (with ``initial``, the current list
        first), until the client closes. A slow consumer gets the latest list."""
        watch = self._watch(service, group, clusters)
        slot: LatestSlot[list[Instance]] = LatestSlot()
        watch.slots.add(slot)
        try:
            await watch.start()
            if initial:
                slot.put(list(watch.current or []))
            async for instances in slot:
                yield instances
        finally:
            watch.slots.discard(slot)
            await self._drop_if_idle(watch)

    async def subscribe(
        self,
        service: str,
        listener: Listener,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
    ) -> None:
        """Call ``listener(instances)`` (sync or async) on every real change from now on
        (returns once the current list, which changes are measured against, is known)."""
        watch = self._watch(service, group, clusters)
        try:
            await watch.start()
        except BaseException:
            await self._drop_if_idle(watch)
            raise
        watch.listeners.append(listener)

    async def unsubscribe(
        self,
        service: str,
        listener: Listener,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
    ) -> None:
        watch = self._watches.get(_watch_key(service, group, clusters))
        if watch is not None and listener in watch.listeners:
            watch.listeners.remove(listener)
            await self._drop_if_idle(watch)

    def _watch(self, service: str, group: str, clusters: Sequence[str] | None) -> ServiceWatch:
        check.service_name(service)
        check.group_name(group)
        for cluster in clusters or ():
            check.cluster_name(cluster)
        key = _watch_key(service, group, clusters)
        if key not in self._watches:
            self._watches[key] = ServiceWatch(key, self._backend, self._runtime)
        return self._watches[key]

    async def _drop_if_idle(self, watch: ServiceWatch) -> None:
        if watch.idle and self._watches.get(watch.key) is watch:
            del self._watches[watch.key]
            await watch.stop()

    async def _close(self) -> None:
        """Stop keeping instances and watching services; deregister what this client registered."""
        self._backend.stop()
        watches, self._watches = list(self._watches.values()), {}
        for watch in watches:
            await watch.stop()
        owned, self._owned = list(self._owned.values()), {}
        if not self._runtime.settings.deregister_on_close:
            return

        async def deregister(spec: InstanceSpec) -> None:
            try:
                await self._backend.deregister(spec)
            except NacosError as exc:
                name = f"{spec.group}@@{spec.service} {spec.ip}:{spec.port}"
                self._failed_deregistrations.append(name)
                logger.warning("deregistering %s on close failed: %s", name, exc)

        async with anyio.create_task_group() as tg:
            for spec in owned:
                if spec.ephemeral:
                    tg.start_soon(deregister, spec)


def _watch_key(service: str, group: str, clusters: Sequence[str] | None) -> WatchKey:
    return (service, group, tuple(sorted(clusters or ())))
