"""The gRPC face of ``NacosDevServer`` (``server.grpc``): pipeline, connections, fault switches.

The unary pipeline mirrors ``GrpcRequestAcceptor``: "server is starting" (300) before anything,
``ServerCheckRequest`` answered without registration or auth, 301 for unregistered connections,
302 for unknown types, then the auth filter (the handler's own response type, errorCode 403),
then the handler. Stores, users, tokens and stats are the HTTP side's, so a change or a fault
on one side shows on the other. Pushes are sent by a ``Pusher`` and caused by a
``ChangeFanout``; grpclib is only imported when the port is bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from nacos_async.clock import Clock
from nacos_async.errors import NacosProtocolError
from nacos_async.grpc.codec import Payload, json_payload
from nacos_async.testing import _grpc_config, _grpc_naming
from nacos_async.testing._auth import bearer_token
from nacos_async.testing._config_store import normalize_namespace
from nacos_async.testing._errors import AuthFailure
from nacos_async.testing._grpc_connections import (
    ConnectionRegistry,
    EndHow,
    GrpcConnection,
    Peer,
    StreamControl,
)
from nacos_async.testing._grpc_fanout import ChangeFanout
from nacos_async.testing._grpc_flavors import GRPC_FLAVORS, GrpcFlavor, grpc_flavor
from nacos_async.testing._grpc_messages import (
    BAD_GATEWAY,
    NO_HANDLER,
    NO_RIGHT,
    SERVER_STARTING,
    UNREGISTERED,
    GrpcError,
    GrpcRequest,
    GrpcRoute,
    answer,
    failure,
)
from nacos_async.testing._grpc_push import DETECTION, RESET, Pusher, PushPolicy
from nacos_async.testing._naming_store import DEFAULT_GROUP
from nacos_async.testing._state import DevState

if TYPE_CHECKING:
    from nacos_async.testing._grpc_server import GrpcWire

logger = logging.getLogger("nacos_async.testing.grpc")

GRPC_PORT_OFFSET = 1000
"""The SDK gRPC port is the HTTP port + 1000 (``Constants.SDK_GRPC_PORT_DEFAULT_OFFSET``)."""
SWEEP_INTERVAL = 1.0  # how often (server clock) HTTP instances' expiry is checked for pushes
_OPTIONAL_TYPES = frozenset().union(*(f.request_types for f in GRPC_FLAVORS.values()))


def grpclib_available() -> bool:
    """Whether the ``[grpc]`` extra (grpclib) is installed."""
    try:
        import grpclib  # noqa: F401
    except ImportError:
        return False
    return True


async def _health(req: GrpcRequest) -> dict[str, Any]:
    return {}


class GrpcSide:
    """Serves Nacos gRPC on ``port + 1000`` for one dev server; holds its connections."""

    def __init__(self, state: DevState) -> None:
        self.state = state
        self.registry = ConnectionRegistry(state.wall_time)
        self.routes: dict[str, GrpcRoute] = {
            "HealthCheckRequest": GrpcRoute(_health, "HealthCheckResponse"),
            **_grpc_config.routes(),
            **_grpc_naming.routes(),
        }
        self.pusher = Pusher(state, self.changed)
        self._fanout = ChangeFanout(state, self.registry, self.pusher)
        self._starting_until: float | None = None
        self._change = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._wire: GrpcWire | None = None

    # ----- basics --------------------------------------------------------------------------------
    @property
    def flavor(self) -> GrpcFlavor:
        return grpc_flavor(self.state.flavor)

    @property
    def clock(self) -> Clock:
        """The server's injected clock (ack timeouts, retries, "starting" windows)."""
        return self.state.clock

    @property
    def dropping_pushes(self) -> bool:
        """Whether the drop-pushes switch is on (see ``drop_pushes``)."""
        return self.pusher.dropping

    @dropping_pushes.setter
    def dropping_pushes(self, enabled: bool) -> None:
        self.pusher.dropping = enabled

    @property
    def connections(self) -> list[GrpcConnection]:
        """The registered connections, oldest first."""
        return list(self.registry)

    def changed(self) -> None:
        """Wake ``wait_until`` callers (something about connections, listens or pushes moved)."""
        self._change.set()
        self._change = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], *, within: float = 5.0) -> None:
        """Return once ``predicate()`` holds, re-checked on every change; TimeoutError after
        ``within`` seconds of real time."""
        async with asyncio.timeout(within):
            while not predicate():
                await self._change.wait()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ----- binding ---------------------------------------------------------------------------
    async def bind(self, host: str, port: int) -> None:
        """Listen on ``port`` (the HTTP port + 1000); OSError if it is taken."""
        from nacos_async.testing._grpc_server import GrpcWire

        wire = GrpcWire(self)
        try:
            await wire.listen(host, port)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"cannot listen for gRPC on {host}:{port} (HTTP port + {GRPC_PORT_OFFSET}): "
                f"{exc.strerror}; grpc=False serves HTTP only",
            ) from exc
        self._wire = wire
        self._fanout.watch()

    async def unbind(self) -> None:
        """Stop listening and drop every connection (restart, pause, close)."""
        self._fanout.unwatch()
        wire, self._wire = self._wire, None
        for connection in self.registry:
            self.unregister(connection)
        if wire is not None:
            await wire.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sweeper = None
        self._starting_until = None

    @property
    def port(self) -> int:
        if self._wire is None:
            raise RuntimeError("the dev server's gRPC port is not bound")
        return self._wire.port

    # ----- the unary pipeline ------------------------------------------------------------------
    @property
    def starting(self) -> bool:
        return self._starting_until is not None and self.clock.now() < self._starting_until

    async def unary(self, peer: Peer, payload: Payload) -> Payload:
        """Answer one ``/Request/request`` call from ``peer``."""
        self.state.stats.grpc_requests[payload.type] += 1
        if self.starting:
            return self._refuse("ErrorResponse", "", *SERVER_STARTING)
        if payload.type == "ServerCheckRequest":
            connection_id = self.registry.connection_id(peer)
            fields = {"connectionId": connection_id, "supportAbilityNegotiation": True}
            return answer("ServerCheckResponse", "", fields)
        connection = self.registry.get(peer)
        if connection is None:
            return self._refuse("ErrorResponse", "", *UNREGISTERED)
        route = self.routes.get(payload.type)
        if route is None or (
            payload.type in _OPTIONAL_TYPES and payload.type not in self.flavor.request_types
        ):
            return self._refuse("ErrorResponse", "", *NO_HANDLER)
        try:
            body = payload.json()
        except NacosProtocolError as exc:
            return self._refuse("ErrorResponse", "", BAD_GATEWAY, str(exc)[:200])
        headers = body.get("headers")
        merged = {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
        merged.update(payload.headers)  # Metadata.headers win over the JSON copy
        request = GrpcRequest(payload.type, body, merged, connection, self.state, self.pusher)
        request_id = body.get("requestId") if isinstance(body.get("requestId"), str) else ""
        try:
            request.user = self._authenticate(request, route)
            fields = await route.handler(request)
        except GrpcError as error:
            kind = error.response_type or route.response_type
            return self._refuse(
                kind, str(request_id), error.code, error.message, result_code=error.result_code
            )
        finally:
            self.changed()  # the handler may have moved listens, subscriptions or instances
        return answer(route.response_type, str(request_id), fields)

    def _refuse(
        self, type_: str, request_id: str, code: int, message: str, *, result_code: int = 500
    ) -> Payload:
        self.state.stats.grpc_errors[code] += 1
        return failure(type_, request_id, code, message, result_code=result_code)

    def _authenticate(self, req: GrpcRequest, route: GrpcRoute) -> str | None:
        """``RemoteRequestAuthFilter``: the same tokens, users and permissions as HTTP."""
        state = self.state
        if route.secured is None or not state.auth:
            return None
        headers = req.headers
        try:
            token = bearer_token(headers.get("Authorization"), headers.get("accessToken"))
            name, password = headers.get("username", ""), headers.get("password", "")
            user = state.identify(token, name, password)
            state.users.authorize(user, self._resource(req, route), route.action)
            return user
        except AuthFailure as failed:
            raise GrpcError(NO_RIGHT, state.refused(failed)) from None

    @staticmethod
    def _resource(req: GrpcRequest, route: GrpcRoute) -> str:
        """``namespace:group:config/dataId`` or ``namespace:group:naming/service``."""
        if route.secured == "config":
            namespace = normalize_namespace(req.text("tenant"))
            group = req.text("group") or "*"
            return f"{namespace}:{group}:config/{req.text('dataId') or '*'}"
        namespace = normalize_namespace(req.text("namespace"))
        service = req.text("serviceName")
        if not service:
            return f"{namespace}:{req.text('groupName') or '*'}:naming/*"
        return f"{namespace}:{req.text('groupName') or DEFAULT_GROUP}:naming/{service}"

    # ----- the bi-stream ------------------------------------------------------------------------
    async def stream_message(self, peer: Peer, payload: Payload, stream: StreamControl) -> None:
        """One message from a client on its bi-stream: setup, an ack, or dropped."""
        self.state.stats.grpc_requests[payload.type] += 1
        try:
            body = payload.json()
        except NacosProtocolError:
            logger.debug("unreadable %s on the stream from %s:%s", payload.type, *peer)
            return
        if payload.type == "ConnectionSetupRequest":
            await self._setup(peer, payload, body, stream)
            return
        connection = self.registry.get(peer)
        if connection is None or not payload.type.endswith("Response"):
            logger.debug("dropped %s on the stream from %s:%s", payload.type, *peer)
            return
        request_id, code = body.get("requestId"), body.get("resultCode", 200)
        if isinstance(request_id, str) and connection.ack(
            request_id, code if isinstance(code, int) else 0
        ):
            self.changed()

    async def _setup(
        self, peer: Peer, payload: Payload, body: dict[str, Any], stream: StreamControl
    ) -> None:
        """Register the connection (the first setup wins) and send ``SetupAckRequest``."""
        if self.registry.get(peer) is not None:
            return
        raw_labels = body.get("labels")
        labels = (
            {str(k): str(v) for k, v in raw_labels.items()} if isinstance(raw_labels, dict) else {}
        )
        if self.starting and labels.get("source") == "sdk":
            stream.end("ok")  # refused while starting: completed with OK, TCP closed
            return
        connection = GrpcConnection(
            id=self.registry.connection_id(peer),
            peer=peer,
            client_ip=payload.client_ip,
            labels=labels,
            tenant=str(body.get("tenant") or ""),
            client_version=str(body.get("clientVersion") or ""),
            stream=stream,
        )
        self.registry.add(connection)
        self.state.stats.grpc_connections["opened"] += 1
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = self._spawn(self._sweep_forever())
        self.changed()
        if body.get("abilityTable") is not None:
            ack = {"headers": {}, "abilityTable": dict(self.flavor.abilities), "module": "internal"}
            await stream.send(json_payload("SetupAckRequest", ack))

    def connection_lost(self, peer: Peer) -> None:
        """The TCP connection from ``peer`` ended (registered or not)."""
        self.registry.forget_peer(peer)

    def stream_closed(self, peer: Peer, stream: StreamControl) -> None:
        """The bi-stream ended (either side, or TCP): unregister its connection."""
        connection = self.registry.get(peer)
        if connection is not None and connection.stream is stream:
            self.unregister(connection)

    def unregister(self, connection: GrpcConnection) -> None:
        """Drop a connection with its listens, subscriptions and instances (subscribers learn)."""
        if not self.registry.remove(connection):
            return
        connection.shut()
        self.state.stats.grpc_connections["closed"] += 1
        for key in list(connection.published):
            _grpc_naming.publish(self.state.naming, connection, key, [])
        connection.listens.clear()
        connection.subscriptions.clear()
        self.changed()

    # ----- expiry ------------------------------------------------------------------------------
    async def _sweep_forever(self) -> None:
        """Let HTTP instances expire on time, so their subscribers get a push."""
        while True:
            await self.clock.sleep(SWEEP_INTERVAL)
            self.state.naming.sweep()

    # ----- fault switches ------------------------------------------------------------------------
    def _pick(self, connection_id: str | None) -> list[GrpcConnection]:
        if connection_id is None:
            return self.connections
        connection = self.registry.by_id(connection_id)
        if connection is None:
            raise ValueError(f"no gRPC connection {connection_id[:100]!r}")
        return [connection]

    async def _push_all(
        self,
        connections: list[GrpcConnection],
        type_: str,
        body: dict[str, Any],
        policy: PushPolicy,
    ) -> dict[str, bool]:
        results = await asyncio.gather(
            *(self.pusher.push(c, type_, lambda: body, policy) for c in connections)
        )
        return {c.id: ok for c, ok in zip(connections, results, strict=True)}

    async def connect_reset(
        self,
        server_ip: str = "",
        server_port: int | None = None,
        *,
        connection_id: str | None = None,
    ) -> dict[str, bool]:
        """Send ``ConnectResetRequest`` (optionally naming a server's HTTP address) to every
        connection, or one; returns which acked within 3 s of the server clock."""
        self.state.stats.faults["grpc_connect_reset"] += 1
        body = {
            "serverIp": server_ip,
            "serverPort": "" if server_port is None else str(server_port),
            "module": "internal",
        }
        return await self._push_all(self._pick(connection_id), "ConnectResetRequest", body, RESET)

    async def client_detection(self, *, connection_id: str | None = None) -> dict[str, bool]:
        """Probe with ``ClientDetectionRequest``; a connection that does not ack within 5 s
        (server clock) is closed, as the connection ejector does."""
        self.state.stats.faults["grpc_client_detection"] += 1
        body = {"module": "internal"}
        connections = self._pick(connection_id)
        return await self._push_all(connections, "ClientDetectionRequest", body, DETECTION)

    def end_streams(self) -> int:
        """End every bi-stream with status OK and close its TCP connection (Nacos' close)."""
        return self._end_all("ok", "grpc_end_streams")

    def reset_streams(self) -> int:
        """Reset every bi-stream (RST_STREAM), leaving TCP open."""
        return self._end_all("reset", "grpc_reset_streams")

    def close_connections(self) -> int:
        """Abort every gRPC TCP connection, registered or not; returns how many."""
        self.state.stats.faults["grpc_close_connections"] += 1
        for connection in self.registry:
            connection.stream.end("abort")
        return self._wire.abort_all() if self._wire is not None else 0

    def _end_all(self, how: EndHow, fault: str) -> int:
        self.state.stats.faults[fault] += 1
        connections = self.connections
        for connection in connections:
            connection.stream.end(how)
        return len(connections)

    def set_starting(self, seconds: float) -> None:
        """Answer every unary call (ServerCheck too) "Server is starting" for ``seconds`` of the
        server clock, and refuse SDK connection setups meanwhile; 0 ends it."""
        if seconds < 0:
            raise ValueError(f"seconds must not be negative: {seconds!r}")
        self.state.stats.faults["grpc_starting"] += 1
        self._starting_until = self.clock.now() + seconds if seconds else None

    def drop_pushes(self, enabled: bool = True) -> None:
        """Stop sending pushes (each counted as ``dropped``; unacked, so retried) or resume."""
        if enabled:
            self.state.stats.faults["grpc_drop_pushes"] += 1
        self.pusher.dropping = enabled
