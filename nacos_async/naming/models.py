"""The ``Instance`` model, read from every list shape Nacos answers with."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nacos_async.names import DEFAULT_CLUSTER


class Instance(BaseModel):
    """One registered instance of a service, as the server reports it."""

    model_config = ConfigDict(frozen=True)

    ip: str
    port: int
    weight: float = 1.0
    healthy: bool = True
    enabled: bool = True
    ephemeral: bool = True
    cluster_name: str = DEFAULT_CLUSTER
    service_name: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)
    instance_id: str | None = None

    @property
    def address(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> Instance:
        """Read a host of a 1.x, 2.x or 3.x list answer (names differ slightly)."""
        service = str(raw.get("serviceName") or "")
        metadata = raw.get("metadata") or {}
        return cls(
            ip=raw["ip"],
            port=raw["port"],
            weight=raw.get("weight", 1.0),
            healthy=raw.get("healthy", raw.get("valid", True)),
            enabled=raw.get("enabled", True),
            ephemeral=raw.get("ephemeral", True),
            cluster_name=raw.get("clusterName") or DEFAULT_CLUSTER,
            service_name=service.split("@@", 1)[-1],
            metadata={str(k): str(v) for k, v in dict(metadata).items()},
            instance_id=raw.get("instanceId"),
        )

    def same_as(self, other: Instance) -> bool:
        """Same instance identity (cluster, ip, port), whatever its state."""
        return (self.cluster_name, self.ip, self.port) == (
            other.cluster_name,
            other.ip,
            other.port,
        )


@dataclass(frozen=True)
class InstanceSpec:
    """What the client registered: enough to register again, to beat, or to deregister."""

    service: str
    group: str
    ip: str
    port: int
    cluster: str = DEFAULT_CLUSTER
    weight: float = 1.0
    enabled: bool = True
    healthy: bool = True
    ephemeral: bool = True
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.group, self.service, self.cluster, self.ip, self.port)

    @property
    def beat_interval(self) -> float | None:
        """The interval the instance's metadata asks for (``preserved.heart.beat.interval``,
        milliseconds), in seconds; None when it names none (or nonsense)."""
        raw = self.metadata.get("preserved.heart.beat.interval")
        try:
            ms = float(raw) if raw is not None else 0.0
        except ValueError:
            return None
        return ms / 1000 if math.isfinite(ms) and ms > 0 else None
