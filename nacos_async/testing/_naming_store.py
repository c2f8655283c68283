"""Services and instances, with health driven by beats on an injectable clock.

Expiry is evaluated lazily against ``clock.now()`` on every access, so a ``FakeClock``
moved by a test is all it takes: no background task, no real waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nacos_async.clock import Clock

DEFAULT_GROUP = "DEFAULT_GROUP"
DEFAULT_CLUSTER = "DEFAULT"
BEAT_INTERVAL_MS = 5000
HEART_BEAT_TIMEOUT_MS = 15000
IP_DELETE_TIMEOUT_MS = 30000


def split_service(service_name: str, group: str | None) -> tuple[str, str]:
    """``(group, name)`` from ``group@@name`` or a bare name plus ``groupName``."""
    if "@@" in service_name:
        g, _, name = service_name.partition("@@")
        return g, name
    return (group or DEFAULT_GROUP), service_name


@dataclass
class InstanceRecord:
    """One registered instance of a service."""

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

    def _preserved(self, key: str, default: int) -> int:
        try:
            return int(self.metadata.get(key, default))
        except ValueError:
            return default

    @property
    def beat_interval_ms(self) -> int:
        return self._preserved("preserved.heart.beat.interval", BEAT_INTERVAL_MS)

    @property
    def beat_timeout_ms(self) -> int:
        return self._preserved("preserved.heart.beat.timeout", HEART_BEAT_TIMEOUT_MS)

    @property
    def delete_timeout_ms(self) -> int:
        return self._preserved("preserved.ip.delete.timeout", IP_DELETE_TIMEOUT_MS)

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


@dataclass
class Service:
    """A service: instances keyed by ``(ip, port)`` (one per client, as in Nacos 2.x)."""

    namespace: str
    group: str
    name: str
    protect_threshold: float = 0.0
    instances: dict[tuple[str, int], InstanceRecord] = field(default_factory=dict)

    @property
    def grouped_name(self) -> str:
        return f"{self.group}@@{self.name}"


ServiceKey = tuple[str, str, str]


class NamingStore:
    """All services, with lazy beat-based health and expiry."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.services: dict[ServiceKey, Service] = {}
        self.change_hooks: list[Callable[[ServiceKey], None]] = []  # e.g. the gRPC pusher

    def changed(self, key: ServiceKey) -> None:
        """Tell the change hooks that a service's instances changed."""
        for hook in self.change_hooks:
            hook(key)

    def sweep(self) -> None:
        """Mark ephemeral instances unhealthy after 15 s and remove them after 30 s unbeaten.

        Instances a gRPC connection owns live as long as the connection: they are skipped.
        """
        now = self.clock.now()
        for service_key, service in self.services.items():
            changed = False
            for key, inst in list(service.instances.items()):
                if not inst.ephemeral or inst.owner:
                    continue
                silent_ms = (now - inst.last_beat) * 1000
                if silent_ms > inst.delete_timeout_ms:
                    del service.instances[key]
                    changed = True
                elif silent_ms > inst.beat_timeout_ms and inst.healthy:
                    inst.healthy = False
                    changed = True
            if changed:
                self.changed(service_key)

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
        """Refresh an instance; False when it is gone (the caller answers 20404/21003)."""
        inst = self.find(namespace, group, name, ip, port)
        if inst is None:
            return False
        inst.last_beat = self.clock.now()
        if not inst.healthy:
            inst.healthy = True
            self.changed((namespace, group, name))
        return True

    def select(
        self,
        namespace: str,
        group: str,
        name: str,
        *,
        clusters: set[str] | None = None,
        healthy_only: bool = False,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Enabled instances as JSON, with Nacos' protect-threshold rule; and whether it hit."""
        service = self.service(namespace, group, name)
        if service is None:
            return [], False
        chosen = [
            inst
            for inst in service.instances.values()
            if inst.enabled
            and (not clusters or inst.cluster in clusters)
            and (inst.healthy or not healthy_only)
        ]
        healthy = sum(1 for inst in chosen if inst.healthy)
        protect = bool(chosen) and healthy / len(chosen) <= max(0.0, service.protect_threshold)
        grouped = service.grouped_name
        hosts = [inst.to_json(grouped, healthy=True if protect else None) for inst in chosen]
        return hosts, protect

    def list_services(self, namespace: str, group: str | None) -> list[Service]:
        self.sweep()
        return [
            s
            for (ns, g, _), s in sorted(self.services.items())
            if ns == namespace and (not group or g == group)
        ]

    def clear(self) -> None:
        """Forget every service and instance (a fault switch, or a restart without state)."""
        keys = list(self.services)
        self.services.clear()
        for key in keys:
            self.changed(key)
