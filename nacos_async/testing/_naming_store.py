"""Services and instances, with health driven by beats on an injectable clock.

Expiry is evaluated lazily against ``clock.now()`` on every access, so a ``FakeClock``
moved by a test is all it takes: no background task, no real waiting. The store remembers
until when no instance can be due a change, so that an access in between (every beat, every
list) costs no pass over all instances.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from nacos_async.clock import Clock

DEFAULT_GROUP = "DEFAULT_GROUP"
DEFAULT_CLUSTER = "DEFAULT"
BEAT_INTERVAL_MS = 5000
HEART_BEAT_TIMEOUT_MS = 15000
IP_DELETE_TIMEOUT_MS = 30000
JAVA_LONG_MAX = 2**63 - 1
CLIENT_EXPIRED_MS = 180_000  # nacos.naming.client.expired.time: a silent client is dropped


def split_service(service_name: str, group: str | None) -> tuple[str, str]:
    """``(group, name)`` from ``group@@name`` or a bare name plus ``groupName``."""
    if "@@" in service_name:
        g, _, name = service_name.partition("@@")
        return g, name
    return (group or DEFAULT_GROUP), service_name


@dataclass
class InstanceRecord:
    """One registered instance of a service.

    Its list JSON is kept once written (lists of thousands are read far more often than their
    instances change); setting any field but ``last_beat`` drops it.
    """

    ip: str
    port: int
    cluster: str = DEFAULT_CLUSTER
    weight: float = 1.0
    healthy: bool = True
    enabled: bool = True
    ephemeral: bool = True
    metadata: dict[str, str] = field(default_factory=dict)
    last_beat: float = 0.0
    owner: str = ""  # the gRPC connection id that registered it: no beats, no expiry
    checked: bool = True  # False: held by a node not responsible for it (never beat-checked)
    _written: tuple[str, bool | None, str] | None = field(
        default=None, init=False, repr=False, compare=False
    )  # (grouped name, healthy shown, JSON text)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "last_beat":  # a beat changes nothing a list shows
            object.__setattr__(self, "_written", None)

    def _preserved(self, key: str, default: int) -> int:
        """``Instance.getMetaDataByKeyWithDefault``: digits only (``^\\d+$``), else the
        default; a number past a Java long, which Nacos cannot parse, is the default too."""
        raw = self.metadata.get(key)
        if raw is None or not (raw.isascii() and raw.isdigit()):
            return default
        significant = raw.lstrip("0") or "0"
        if len(significant) > 19 or int(significant) > JAVA_LONG_MAX:
            return default
        return int(significant)

    @property
    def beat_interval_ms(self) -> int:
        return self._preserved("preserved.heart.beat.interval", BEAT_INTERVAL_MS)

    @property
    def beat_timeout_ms(self) -> int:
        return self._preserved("preserved.heart.beat.timeout", HEART_BEAT_TIMEOUT_MS)

    @property
    def delete_timeout_ms(self) -> int:
        return self._preserved("preserved.ip.delete.timeout", IP_DELETE_TIMEOUT_MS)

    def change_due(self) -> float:
        """The clock time from which the sweep may change it (a microsecond early, so that
        rounding never makes a change late; inf: never)."""
        allowed_ms = self.silence_allowed_ms()
        return math.inf if allowed_ms == math.inf else self.last_beat + allowed_ms / 1000 - 1e-6

    def silence_allowed_ms(self) -> float:
        """How long it may go unbeaten before the sweep changes it (inf: never)."""
        if not self.ephemeral or self.owner:
            return math.inf
        if not self.checked:
            return CLIENT_EXPIRED_MS
        if self.healthy:
            return min(self.beat_timeout_ms, self.delete_timeout_ms)
        return self.delete_timeout_ms

    def to_json(self, grouped_name: str, *, healthy: bool | None = None) -> dict[str, Any]:
        """The ``Instance`` JSON of the list APIs (field order as Jackson writes it)."""
        return {
            "instanceId": f"{self.ip}#{self.port}#{self.cluster}#{grouped_name}",
            "ip": self.ip,
            "port": self.port,
            "weight": self.weight,
            "healthy": self.healthy if healthy is None else healthy,
            "enabled": self.enabled,
            "ephemeral": self.ephemeral,
            "clusterName": self.cluster,
            "serviceName": grouped_name,
            "metadata": dict(self.metadata),
            "instanceHeartBeatInterval": self.beat_interval_ms,
            "instanceHeartBeatTimeOut": self.beat_timeout_ms,
            "ipDeleteTimeout": self.delete_timeout_ms,
            "instanceIdGenerator": self.metadata.get("preserved.instance.id.generator", "simple"),
        }

    def json_text(self, grouped_name: str, *, healthy: bool | None = None) -> str:
        """``to_json`` as compact JSON text, written again only after a change."""
        written = self._written
        if written is not None and written[0] == grouped_name and written[1] is healthy:
            return written[2]
        text = json.dumps(
            self.to_json(grouped_name, healthy=healthy), separators=(",", ":"), ensure_ascii=False
        )
        object.__setattr__(self, "_written", (grouped_name, healthy, text))
        return text


@dataclass
class ServiceMetadata:
    """What an operator stored for a service (admin create/update); most services have none."""

    protect_threshold: float = 0.0
    metadata: dict[str, str] = field(default_factory=dict)
    ephemeral: bool = True


@dataclass
class Service:
    """A service: instances keyed by ``(ip, port)`` (one per client, as in Nacos 2.x)."""

    namespace: str
    group: str
    name: str
    instances: dict[tuple[str, int], InstanceRecord] = field(default_factory=dict)
    stored: ServiceMetadata | None = None  # None: registered only, no ServiceMetadata

    @property
    def grouped_name(self) -> str:
        return f"{self.group}@@{self.name}"

    @property
    def protect_threshold(self) -> float:
        return self.stored.protect_threshold if self.stored is not None else 0.0

    @property
    def clusters(self) -> list[str]:
        """The cluster names of the current instances, sorted."""
        return sorted({inst.cluster for inst in self.instances.values()})


ServiceKey = tuple[str, str, str]


class Selection(NamedTuple):
    """The instances a list shows, as the list APIs write them."""

    grouped_name: str
    instances: list[InstanceRecord]
    healthy: bool | None  # True: the protect threshold hit, all are shown healthy

    @property
    def protected(self) -> bool:
        return self.healthy is True

    def hosts(self) -> list[dict[str, Any]]:
        return [inst.to_json(self.grouped_name, healthy=self.healthy) for inst in self.instances]

    def hosts_text(self) -> str:
        """``hosts()`` as JSON text (each host written once per change of it)."""
        grouped, healthy = self.grouped_name, self.healthy
        written = [inst.json_text(grouped, healthy=healthy) for inst in self.instances]
        return f"[{','.join(written)}]"


class Replication(Protocol):
    """Where a naming write lands in a cluster of dev servers (``NacosDevCluster``)."""

    def write_targets(
        self, receiver: NamingStore, ip: str, port: int, *, routed: bool
    ) -> tuple[list[NamingStore], bool]:
        """The stores that take the write (the one that handles it first) and whether the
        instance is health-checked there."""
        ...

    def everywhere(self) -> list[NamingStore]:
        """Every node's store (service metadata is replicated by Raft to all of them)."""
        ...


class NamingStore:
    """All services, with lazy beat-based health and expiry."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.services: dict[ServiceKey, Service] = {}
        self.change_hooks: list[Callable[[ServiceKey], None]] = []  # e.g. the gRPC pusher
        self.replication: Replication | None = None  # set by a NacosDevCluster
        self._calm_until = -math.inf  # no instance is due a change before then (see sweep)

    def write_targets(self, ip: str, port: int, *, routed: bool) -> tuple[list[NamingStore], bool]:
        """Where a write for ``ip:port`` lands; ``routed``: it passed the DistroFilter."""
        if self.replication is None:
            return [self], True
        return self.replication.write_targets(self, ip, port, routed=routed)

    def everywhere(self) -> list[NamingStore]:
        """This store, or every store of the cluster it belongs to."""
        return [self] if self.replication is None else self.replication.everywhere()

    def changed(self, key: ServiceKey) -> None:
        """Tell the change hooks that a service's instances changed."""
        for hook in self.change_hooks:
            hook(key)

    def sweep(self) -> None:
        """Mark ephemeral instances unhealthy after 15 s and remove them after 30 s unbeaten.

        Instances a gRPC connection owns live as long as the connection: they are skipped.
        An instance this node is not responsible for is never beat-checked (Nacos'
        ``InstanceBeatCheckResponsibleInterceptor``): it stays as it is until its client has
        been silent for ``CLIENT_EXPIRED_MS``.
        """
        now = self.clock.now()
        if now < self._calm_until:
            return
        calm_until = math.inf  # kept only once the pass is complete
        for service_key, service in self.services.items():
            changed = False
            for key, inst in list(service.instances.items()):
                allowed_ms = inst.silence_allowed_ms()
                if allowed_ms == math.inf:
                    continue
                silent_ms = (now - inst.last_beat) * 1000
                if silent_ms > allowed_ms:
                    changed = True
                    if not inst.checked or silent_ms > inst.delete_timeout_ms:
                        del service.instances[key]
                        continue
                    inst.healthy = False
                calm_until = min(calm_until, inst.change_due())
            if changed:
                self.changed(service_key)
        self._calm_until = calm_until

    def _may_change(self, inst: InstanceRecord) -> None:
        """Bring the end of the calm forward to when ``inst`` may be due a change."""
        self._calm_until = min(self._calm_until, inst.change_due())

    def service(self, namespace: str, group: str, name: str) -> Service | None:
        self.sweep()
        return self.services.get((namespace, group, name))

    def register(self, namespace: str, group: str, name: str, inst: InstanceRecord) -> None:
        self.sweep()
        service = self.services.get((namespace, group, name))
        if service is None:
            service = self.services[(namespace, group, name)] = Service(namespace, group, name)
        inst.last_beat = self.clock.now()
        service.instances[(inst.ip, inst.port)] = inst
        self._may_change(inst)  # it may be due sooner than any other
        self.changed((namespace, group, name))

    def deregister(self, namespace: str, group: str, name: str, ip: str, port: int) -> bool:
        service = self.service(namespace, group, name)
        if service is None or service.instances.pop((ip, port), None) is None:
            return False
        self.changed((namespace, group, name))
        return True

    def find(
        self, namespace: str, group: str, name: str, ip: str, port: int
    ) -> InstanceRecord | None:
        service = self.service(namespace, group, name)
        return service.instances.get((ip, port)) if service else None

    def beat(self, namespace: str, group: str, name: str, ip: str, port: int) -> bool:
        """Refresh an ephemeral instance; False when there is none (20404/21003 for the caller).

        Beats look up the ephemeral client ``ip:port#true`` only, so a persistent instance
        is never found by a beat.
        """
        inst = self.find(namespace, group, name, ip, port)
        if inst is None or not inst.ephemeral:
            return False
        inst.last_beat = self.clock.now()  # later: nothing becomes due sooner
        if not inst.healthy:
            inst.healthy = True
            self._may_change(inst)  # healthy again: due at the beat timeout instead
            self.changed((namespace, group, name))
        return True

    def update(self, namespace: str, group: str, name: str, changed: InstanceRecord) -> bool:
        """``updateInstance``: store weight, enabled and metadata for the instance with the
        same address and cluster; False when the service does not exist."""
        service = self.service(namespace, group, name)
        if service is None:
            return False
        inst = service.instances.get((changed.ip, changed.port))
        if inst is not None and inst.cluster == changed.cluster:
            inst.weight, inst.enabled = changed.weight, changed.enabled
            inst.metadata = dict(changed.metadata)
            self._may_change(inst)  # the metadata may shorten its timeouts
            self.changed((namespace, group, name))
        return True

    def store_service(
        self, namespace: str, group: str, name: str, stored: ServiceMetadata
    ) -> Service:
        """Create (or update) a service with operator metadata, as the admin APIs do."""
        self.sweep()
        key = (namespace, group, name)
        service = self.services.get(key)
        if service is None:
            service = self.services[key] = Service(namespace, group, name)
        service.stored = stored
        return service

    def select(
        self,
        namespace: str,
        group: str,
        name: str,
        *,
        clusters: set[str] | None = None,
        healthy_only: bool = False,
    ) -> Selection:
        """The enabled instances a list shows, with Nacos' protect-threshold rule."""
        service = self.service(namespace, group, name)
        if service is None:
            return Selection("", [], None)
        chosen = [
            inst
            for inst in service.instances.values()
            if inst.enabled
            and (not clusters or inst.cluster in clusters)
            and (inst.healthy or not healthy_only)
        ]
        healthy = sum(1 for inst in chosen if inst.healthy)
        # ServiceUtil.selectInstancesWithHealthyProtection returns early without metadata.
        protect = (
            service.stored is not None
            and bool(chosen)
            and healthy / len(chosen) <= max(0.0, service.protect_threshold)
        )
        return Selection(service.grouped_name, chosen, True if protect else None)

    def list_services(self, namespace: str, group: str | None) -> list[Service]:
        self.sweep()
        return [
            s
            for (ns, g, _), s in sorted(self.services.items())
            if ns == namespace and (not group or g == group)
        ]

    def match_services(self, namespace: str, group_param: str, name_param: str) -> list[Service]:
        """``CatalogServiceV2Impl.patternServices``: ``group@@name`` must match the regular
        expression ``.*<group>.*@@.*<name>.*`` (a substring match; the values are regexes,
        so a bad one raises ``re.error`` as Java raises ``PatternSyntaxException``)."""
        self.sweep()
        in_namespace = [s for (ns, _, _), s in sorted(self.services.items()) if ns == namespace]
        if not group_param.strip() and not name_param.strip():
            return in_namespace

        def part(value: str) -> str:
            return ".*" if not value.strip() else f".*{value}.*"

        pattern = re.compile(f"{part(group_param)}@@{part(name_param)}", re.S)
        return [s for s in in_namespace if pattern.fullmatch(s.grouped_name)]

    def clear(self) -> None:
        """Forget every service and instance (a fault switch, or a restart without state)."""
        keys = list(self.services)
        self.services.clear()
        for key in keys:
            self.changed(key)
