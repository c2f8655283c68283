"""What the naming service needs from a protocol: one interface, one class per transport.

``HttpNamingBackend`` (v1/v3 over HTTP, heartbeats, polled watches) and ``GrpcNamingBackend``
(connection-bound instances, pushed watches, ``nacos_async.grpc.naming``) implement it; the
service and the watcher do not know which one they use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from nacos_async.errors import NacosClosedError
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

    def keeps(self, spec: InstanceSpec) -> bool:
        """Whether ``spec`` stays registered although its ``register`` (or ``update``) call
        failed: over gRPC a registration that met no connection is made on the next one."""
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


class BackendChosenAtStart:
    """The backend of the transport a client picks when it starts (HTTP, or gRPC), behind one
    object: ``client.naming`` may be built before ``start()`` and never changes.

    ``chosen(build)`` gives that backend (building it on first use when ``build``), or None
    before the client has started (or, without ``build``, while nothing used it yet).
    """

    def __init__(self, chosen: Callable[[bool], NamingBackend | None]) -> None:
        self._chosen = chosen

    def _backend(self) -> NamingBackend:
        backend = self._chosen(True)
        if backend is None:
            raise NacosClosedError("client is closed (or was never started)")
        return backend

    async def register(self, spec: InstanceSpec) -> None:
        await self._backend().register(spec)

    async def deregister(self, spec: InstanceSpec) -> None:
        await self._backend().deregister(spec)

    def keeps(self, spec: InstanceSpec) -> bool:
        backend = self._chosen(False)
        return backend is not None and backend.keeps(spec)

    async def update(self, spec: InstanceSpec) -> None:
        await self._backend().update(spec)

    async def list_instances(
        self, service: str, group: str, clusters: list[str], healthy_only: bool
    ) -> list[Instance]:
        return await self._backend().list_instances(service, group, clusters, healthy_only)

    async def list_services(self, group: str, page: int, page_size: int) -> tuple[int, list[str]]:
        return await self._backend().list_services(group, page, page_size)

    async def next_instances(self, key: WatchKey, *, first: bool) -> list[Instance]:
        return await self._backend().next_instances(key, first=first)

    async def unwatch(self, key: WatchKey) -> None:
        backend = self._chosen(False)
        if backend is not None:
            await backend.unwatch(key)

    def health(self) -> dict[str, Any]:
        backend = self._chosen(False)
        return backend.health() if backend is not None else {}

    def stop(self) -> None:
        backend = self._chosen(False)
        if backend is not None:
            backend.stop()
