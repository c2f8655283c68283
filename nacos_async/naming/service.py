"""``client.naming``: register with heartbeats, deregister, list, select, watch."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from nacos_async._latest import LatestSlot
from nacos_async.errors import NacosError, NacosNotFoundError
from nacos_async.naming import validation as check
from nacos_async.naming._protocol import InstanceSpec, NamingProtocol
from nacos_async.naming.heartbeat import HeartbeatScheduler
from nacos_async.naming.models import Instance
from nacos_async.naming.select import weighted_choice
from nacos_async.naming.watcher import Listener, ServiceWatch, WatchKey

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

logger = logging.getLogger("nacos_async")
DEFAULT_GROUP = "DEFAULT_GROUP"
DEFAULT_CLUSTER = "DEFAULT"


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

    def __init__(self, client: NacosClient, *, rng: random.Random | None = None) -> None:
        self._client = client
        self._protocol = NamingProtocol(client)
        self._rng = rng or random.Random()
        self._heartbeats = HeartbeatScheduler(
            self._protocol,
            supervisor=client.supervisor,
            clock=client.clock,
            events=client.events,
            interval=client.settings.heartbeat_interval,
            rng=self._rng,
        )
        self._owned: dict[tuple[str, str, str, str, int], InstanceSpec] = {}
        self._watches: dict[WatchKey, ServiceWatch] = {}
        client.add_closer(self._close)

    @property
    def registered(self) -> list[InstanceSpec]:
        """The instances this client registered and keeps alive."""
        return list(self._owned.values())

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
        await self._protocol.register(spec)
        self._owned[spec.key] = spec
        if spec.ephemeral:
            self._heartbeats.add(spec, interval=_metadata_interval(spec.metadata))

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
        self._heartbeats.remove(spec)
        self._owned.pop(spec.key, None)
        await self._protocol.deregister(spec)

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
        """Change weight, metadata or enabled (v1 API; Nacos 3.x serves it only to admins)."""
        spec = _spec(service, ip, port, group, cluster, weight=weight, metadata=metadata,
                     ephemeral=ephemeral, enabled=enabled)  # fmt: skip
        await self._protocol.update(spec)
        if spec.key in self._owned:
            self._owned[spec.key] = spec
            self._heartbeats.add(spec, interval=_metadata_interval(spec.metadata))

    async def list_instances(
        self,
        service: str,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
        healthy_only: bool = False,
    ) -> list[Instance]:
        """The service's enabled instances (healthy ones only if asked)."""
        return await self._protocol.list_instances(
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
            raise NacosNotFoundError(f"no healthy instance of {group}@@{service} to select")
        return chosen

    async def list_services(
        self, *, group: str = DEFAULT_GROUP, page: int = 1, page_size: int = 100
    ) -> ServicePage:
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValueError(f"page must be an integer >= 1, got {page!r}")
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= 500
        ):
            raise ValueError(f"page_size must be an integer from 1 to 500, got {page_size!r}")
        count, names = await self._protocol.list_services(check.group_name(group), page, page_size)
        return ServicePage(count, names)

    async def watch(
        self,
        service: str,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
    ) -> AsyncGenerator[list[Instance], None]:
        """Yield the instance list now and after every real change, until the client closes."""
        watch = self._watch(service, group, clusters)
        slot: LatestSlot[list[Instance]] = LatestSlot()
        if watch.current is not None:
            slot.put(list(watch.current))
        watch.slots.add(slot)
        watch.ensure_running()
        try:
            async for instances in slot:
                yield instances
        finally:
            watch.slots.discard(slot)
            self._drop_if_idle(watch)

    def subscribe(
        self,
        service: str,
        listener: Listener,
        *,
        group: str = DEFAULT_GROUP,
        clusters: Sequence[str] | None = None,
    ) -> None:
        """Call ``listener(instances)`` (sync or async) on every real change."""
        watch = self._watch(service, group, clusters)
        watch.listeners.append(listener)
        watch.ensure_running()

    def unsubscribe(
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
            self._drop_if_idle(watch)

    def _watch(self, service: str, group: str, clusters: Sequence[str] | None) -> ServiceWatch:
        check.service_name(service)
        check.group_name(group)
        for cluster in clusters or ():
            check.cluster_name(cluster)
        key = _watch_key(service, group, clusters)
        if key not in self._watches:
            self._watches[key] = ServiceWatch(key, self._protocol, self._client)
        return self._watches[key]

    def _drop_if_idle(self, watch: ServiceWatch) -> None:
        if watch.idle and self._watches.get(watch.key) is watch:
            watch.stop()
            del self._watches[watch.key]

    async def _close(self) -> None:
        """Stop heartbeats and watches; deregister what this client registered."""
        self._heartbeats.stop()
        for watch in list(self._watches.values()):
            watch.stop()
        self._watches.clear()
        owned, self._owned = list(self._owned.values()), {}
        if not self._client.settings.deregister_on_close:
            return

        async def deregister(spec: InstanceSpec) -> None:
            try:
                await self._protocol.deregister(spec)
            except NacosError as exc:
                logger.warning("deregistering %s %s:%d on close failed: %s",
                               spec.service, spec.ip, spec.port, exc)  # fmt: skip

        async with anyio.create_task_group() as tg:
            for spec in owned:
                if spec.ephemeral:
                    tg.start_soon(deregister, spec)


def _watch_key(service: str, group: str, clusters: Sequence[str] | None) -> WatchKey:
    return (service, group, tuple(sorted(clusters or ())))


def _metadata_interval(metadata: Mapping[str, str]) -> float | None:
    raw = metadata.get("preserved.heart.beat.interval")
    try:
        return float(raw) / 1000 if raw is not None and float(raw) > 0 else None
    except ValueError:
        return None
