"""Nacos gRPC connections: identity by peer address, what each one owns, and push acks.

A Nacos connection is one TCP connection (``connectionId = "<ms>_<ip>_<port>"``), registered by
the ``ConnectionSetupRequest`` on its bi-stream. Listens, subscriptions and instances belong to
it and go when it goes. A push in flight waits here for its ack (see ``_grpc_push``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from nacos_async.grpc.codec import Payload
from nacos_async.testing._config_store import ConfigKey
from nacos_async.testing._naming_store import ServiceKey

Peer = tuple[str, int]
EndHow = Literal["ok", "reset", "abort"]
"""How the server ends a connection: stream completed with OK then TCP closed (Nacos'
``GrpcConnection.close``), RST_STREAM on the bi-stream, or the TCP connection aborted."""


class StreamControl(Protocol):
    """What the wire layer offers a connection: send on its bi-stream, and end it."""

    async def send(self, payload: Payload) -> bool:
        """Write one message; False when the stream is already gone."""
        ...

    def end(self, how: EndHow) -> None: ...


@dataclass(eq=False)
class GrpcConnection:
    """One registered connection and everything it owns."""

    id: str
    peer: Peer
    client_ip: str
    labels: dict[str, str]
    tenant: str
    client_version: str
    stream: StreamControl
    listens: dict[ConfigKey, str] = field(default_factory=dict)  # key -> tenant as sent
    subscriptions: dict[ServiceKey, str] = field(default_factory=dict)  # key -> clusters
    published: dict[ServiceKey, set[tuple[str, int]]] = field(default_factory=dict)
    pending: dict[str, asyncio.Future[int]] = field(default_factory=dict)  # requestId -> code
    tasks: dict[Hashable, asyncio.Task[Any]] = field(default_factory=dict)
    closed: bool = False

    @property
    def module(self) -> str:
        """The ``module`` label: ``naming`` connections may own instances and subscriptions."""
        return self.labels.get("module", "")

    def spawn(self, key: Hashable, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` for this connection, replacing (cancelling) the task under ``key``."""
        old = self.tasks.pop(key, None)
        if old is not None:
            old.cancel()
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks[key] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self.tasks.get(key) is done:
                del self.tasks[key]

        task.add_done_callback(forget)

    def ack(self, request_id: str, result_code: int) -> bool:
        """Resolve the push waiting for ``request_id``; False if none is waiting."""
        future = self.pending.get(request_id)
        if future is None or future.done():
            return False
        future.set_result(result_code)
        return True

    def shut(self) -> None:
        """Mark closed and cancel its tasks and waiting pushes (idempotent)."""
        self.closed = True
        for task in list(self.tasks.values()):
            task.cancel()
        self.tasks.clear()
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()


class ConnectionRegistry:
    """Connections by peer address, and the ids handed out by ServerCheck before setup."""

    def __init__(self, wall_time: Callable[[], float]) -> None:
        self._wall_time = wall_time
        self._by_peer: dict[Peer, GrpcConnection] = {}
        self._ids: dict[Peer, str] = {}

    def connection_id(self, peer: Peer) -> str:
        """The id of the TCP connection from ``peer`` (fixed at first sight, as Nacos' filter)."""
        known = self._ids.get(peer)
        if known is None:
            known = self._ids[peer] = f"{int(self._wall_time() * 1000)}_{peer[0]}_{peer[1]}"
        return known

    def get(self, peer: Peer) -> GrpcConnection | None:
        return self._by_peer.get(peer)

    def add(self, connection: GrpcConnection) -> None:
        self._by_peer[connection.peer] = connection

    def remove(self, connection: GrpcConnection) -> bool:
        """Unregister; False if it was not registered (already gone)."""
        self._ids.pop(connection.peer, None)
        if self._by_peer.get(connection.peer) is not connection:
            return False
        del self._by_peer[connection.peer]
        return True

    def forget_peer(self, peer: Peer) -> None:
        """The TCP connection ended: a new one from the same port gets a new id."""
        if peer not in self._by_peer:
            self._ids.pop(peer, None)

    def __iter__(self) -> Iterator[GrpcConnection]:
        return iter(list(self._by_peer.values()))

    def __len__(self) -> int:
        return len(self._by_peer)

    def __bool__(self) -> bool:
        return bool(self._by_peer)

    def by_id(self, connection_id: str) -> GrpcConnection | None:
        return next((c for c in self._by_peer.values() if c.id == connection_id), None)
