"""What the naming service needs from a protocol: one interface, one class per transport.

``HttpNamingBackend`` (v1/v3 over HTTP, heartbeats, polled watches) implements it today; a gRPC
backend (connection-bound instances, pushes) is one more class, and the service does not change.
"""

from __future__ import annotations

from typing import Any, Protocol

from nacos_async.naming.models import Instance, InstanceSpec

WatchKey = tuple[str, str, tuple[str, ...]]  # (service, group, clusters)


class NamingBackend(Protocol):
    """Registration, queries and service watches over one protocol."""

    async def register(self, spec: InstanceSpec) -> None:
        """Register, and keep the instance registered (heartbeats, redo) until deregistered."""
        ...

    async def deregister(self, spec: InstanceSpec) -> None:
        """Stop keeping the instance and remove it (no error if the server lacks it)."""
        ...

    async def update(self, spec: InstanceSpec) -> None:
        """Change weight, metadata or enabled of a registered instance."""
        ...

    async def list_instances(
        self, service: str, group: str, clusters: list[str], healthy_only: bool
    ) -> list[Instance]:
        """Enabled instances of every cluster (or of ``clusters``), healthy ones if asked."""
        ...

    async def list_services(self, group: str, page: int, page_size: int) -> tuple[int, list[str]]:
        """Service names of ``group`` (exactly), one page, and how many there are in all."""
        ...

    async def next_instances(self, key: WatchKey, *, first: bool) -> list[Instance]:
        """The watched service's instances: at once when ``first``, else once they may have
        changed (after a poll interval, or a push)."""
        ...

    async def unwatch(self, key: WatchKey) -> None:
        """Nobody watches ``key`` any more."""
        ...

    def health(self) -> dict[str, Any]:
        """What ``client.health()`` shows for naming (failing heartbeats, ...)."""
        ...

    def stop(self) -> None:
        """Stop keeping instances alive (the service deregisters them itself)."""
        ...
