"""The gRPC channel of one client for one module: the current connection, kept up and replaced.

- Connecting: a supervised loop opens a connection to the current server (``ServerList``, shared
  with HTTP), moving to the next server and backing off with jitter after each failure; it
  starts on first use and runs until the client closes.
- Keeping: after 5 s without traffic the loop sends ``HealthCheckRequest`` (NACOS_GRPC.md §2.8).
  A failed check, a stream that ends (with OK too), a reset or TCP loss, and errorCode 301
  (unregistered) all count as a lost connection: the loop connects again at once.
- ``ConnectResetRequest``: the loop connects to the named server (when it is in the list) or the
  next one; the old connection serves until the new one is up.
- Every new connection bumps ``generation`` and calls the listeners, so that a module can redo
  what the old connection owned (config listens, naming registrations).
- ``request()``: one logical request within its deadline. It waits for a connection when there is
  none, takes the token from the auth policy right before sending (the same ``AuthFlow`` calls as
  the HTTP sender: errorCode 403 is decided there), and retries on another connection after a
  loss or on a starting/overloaded server, up to ``max_attempts``. Nobody retries on top of it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import ssl
from collections.abc import Callable, Collection, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from nacos_async._binding import Binding
from nacos_async.auth import NO_CREDENTIALS, AuthPolicy, MakeError
from nacos_async.background import LoopHandle, Supervisor
from nacos_async.backoff import Backoff
from nacos_async.clock import Clock, within
from nacos_async.errors import (
    NacosAuthError,
    NacosClosedError,
    NacosConnectionError,
    NacosError,
    NacosTimeoutError,
)
from nacos_async.events import Events
from nacos_async.grpc.answers import (
    NO_RIGHT,
    UNREGISTERED,
    Answer,
    ConnectionLostError,
    answer_error,
    read_answer,
)
from nacos_async.grpc.codec import MAX_MESSAGE_BYTES, json_payload
from nacos_async.grpc.connection import GrpcConnection
from nacos_async.servers import ServerAddress, ServerList
from nacos_async.signing import Resource
from nacos_async.tls import client_context

if TYPE_CHECKING:  # pydantic stays off the import path of the gRPC transport
    from nacos_async.settings import NacosSettings

logger = logging.getLogger("nacos_async")

HEALTH_IDLE = 5.0  # a HealthCheck after this long without traffic (the Java client's keepalive)
HEALTH_TIMEOUT = 3.0
CONNECT_TIMEOUT = 5.0  # ServerCheck, stream and SetupAck, at most (less with a smaller timeout)
RECONNECT_CAP = 5.0  # the longest pause between two connection attempts (as the Java client)

Listener = Callable[[int], None]  # called with the new generation after every (re)connect
PushHandler = Callable[[dict[str, Any]], None]


class GrpcChannel:
    """Owns the current ``GrpcConnection`` of one module; see the module docstring."""

    def __init__(
        self,
        module: str,
        *,
        settings: NacosSettings,
        servers: ServerList,
        auth: AuthPolicy,
        supervisor: Supervisor,
        clock: Clock,
        events: Events,
        binding: Binding,
        rng: random.Random | None = None,
        labels: Mapping[str, str] | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.module = module
        self.servers = servers
        self._settings = settings
        self._auth = auth
        self._supervisor = supervisor
        self._clock = clock
        self._events = events
        self._binding = binding
        self._rng = rng or random.Random()
        self._labels = {"source": "sdk", "module": module, **(labels or {})}
        self._max_message_bytes = max_message_bytes
        self._backoff = Backoff(base=settings.retry_backoff, cap=max(settings.retry_backoff,
                                                                     RECONNECT_CAP))  # fmt: skip
        self._tls: ssl.SSLContext | None = None  # built for the first https server
        self._connection: GrpcConnection | None = None
        self._moved = anyio.Event()  # set (and replaced) whenever an attempt ends or it closes
        self._switching = False  # a ConnectReset asked for another connection
        self._loop: LoopHandle | None = None
        self._listeners: list[Listener] = []
        self._push_handlers: dict[str, PushHandler] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self.generation = 0  # connections opened so far; the current one's number
        self.failures = 0  # consecutive failed connection attempts
        self.last_error: str | None = None

    def __repr__(self) -> str:
        return f"GrpcChannel({self.module!r}, {self.state}, generation={self.generation})"

    # ----- what modules register ---------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(generation)`` after every new connection (sync, fast)."""
        self._listeners.append(listener)

    def on_push(self, kind: str, handler: PushHandler) -> None:
        """Handle server requests of type ``kind`` (then acked); sync, fast, never raising."""
        self._push_handlers[kind] = handler

    # ----- state -------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        if self._closed:
            return "closed"
        if self._connection is not None:
            return "connected"
        return "connecting" if self._loop is not None else "idle"

    @property
    def connection_id(self) -> str | None:
        return self._connection.id if self._connection is not None else None

    def health(self) -> dict[str, Any]:
        connection = self._connection
        return {
            "module": self.module,
            "state": self.state,
            "server": connection.where if connection is not None else None,
            "connection_id": connection.id if connection is not None else None,
            "reconnects": max(0, self.generation - 1),
            "failures": self.failures,
            "last_error": self.last_error,
            "problems": [f"gRPC {self.module} connection failing: {self.last_error}"]
            if connection is None and self.failures >= 3
            else [],
        }

    async def wait_connected(
        self, deadline: float = math.inf, *, attempts: int | None = None
    ) -> GrpcConnection:
        """The current connection, waiting (until ``deadline``) while there is none.

        Without ``attempts`` it waits for the background loop (a watcher does). With it, the
        caller asks for attempts now, paced as the HTTP sender paces its retries, and gives up
        after that many failed ones (a request does: a dead server fails it fast).
        """
        failed = 0
        while True:
            if self._closed:
                raise NacosClosedError("client is closed")
            self._binding.check()
            connection = self._connection
            if connection is not None:
                return connection
            if attempts is not None and failed >= attempts:
                raise NacosConnectionError(
                    f"no gRPC connection: {failed} attempt(s) to connect to {self._target()} "
                    f"failed (last error: {self.last_error})", method="gRPC",
                )  # fmt: skip
            self._start()
            moved = self._moved
            if attempts is not None:
                assert self._loop is not None
                self._loop.wake()  # an attempt now, not at the end of a long backoff pause
            if not await within(self._clock, deadline, moved.wait):
                raise NacosTimeoutError(
                    f"no gRPC connection within the deadline: waited for a connection to "
                    f"{self._target()} (last error: {self.last_error or 'none yet'})",
                    method="gRPC",
                )
            if attempts is not None and self._connection is None and not self._closed:
                failed += 1
                pause = self._backoff.delay(failed, self._rng)
                if failed < attempts and self._clock.now() + pause >= deadline:
                    failed = attempts  # no time for another attempt: fail now, as HTTP does
                elif failed < attempts:
                    await self._clock.sleep(pause)

    async def server_abilities(self) -> dict[str, bool]:
        """What the current server said it supports in its SetupAck (connecting first, as a
        request would; ``{}`` from a 2.2.x server, which negotiates nothing)."""
        if self._closed:
            raise NacosClosedError("client is closed (or was never started)")
        budget = self._settings.request_timeout
        connection = await self._connection_for("SetupAckRequest", budget,
                                                self._clock.now() + budget)  # fmt: skip
        return dict(connection.abilities)

    # ----- requests ----------------------------------------------------------------------------
    async def request(
        self,
        kind: str,
        body: Mapping[str, Any],
        *,
        resource: Resource | None = None,
        scope: Mapping[str, str] | None = None,
        timeout: float | None = None,
        accept: Collection[int] = (),
    ) -> Answer:
        """Send one request of type ``kind``; returns its answer when successful or when its
        errorCode is in ``accept`` (in the handler's own response type, never the acceptor's
        ``ErrorResponse``), raises a typed ``NacosError`` otherwise. ``resource`` and
        ``scope`` (tenant, group, serviceName) are what an access-key signature covers."""
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        if self._closed:
            raise NacosClosedError("client is closed (or was never started)", path=kind)
        self._binding.check()
        budget = timeout or self._settings.request_timeout
        deadline = self._clock.now() + budget
        flow = self._auth.flow(kind, deadline)
        attempt = 0
        while True:
            connection = await self._connection_for(kind, budget, deadline)
            headers: dict[str, str] = {}
            if flow is not None:
                token = flow.token_now()
                if token is None:
                    await flow.wait_for_token()
                    continue
                self._auth.put_grpc(token, headers)
            signer = self._auth.signer
            if signer is not None and resource is not None:
                extra_headers, extra_params = signer.sign(resource, scope or {})
                headers.update(extra_headers)
                headers.update(extra_params)  # naming's ak/data/signature ride as headers
            message = {"headers": {}, "requestId": str(next(self._ids)), "module": self.module,
                       **body}  # fmt: skip
            payload = json_payload(kind, message, headers=headers, client_ip=connection.client_ip)
            if len(payload.body) > self._max_message_bytes:
                raise ValueError(
                    f"{kind} of {len(payload.body)} bytes exceeds the gRPC message limit of "
                    f"{self._max_message_bytes} bytes"
                )
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                raise NacosTimeoutError(f"no answer within {budget:g}s", method="gRPC", path=kind)
            started = self._clock.now()
            try:
                reply = await connection.call(payload, remaining)
            except ConnectionLostError as exc:
                if self._closed:
                    raise NacosClosedError(
                        "client closed while the request was pending", path=kind
                    ) from None
                self._lost(connection, str(exc))
                failure: NacosError = exc
            else:
                answer = read_answer(reply, connection.where)
                self._count(kind, connection, answer, started)
                if answer.ok or (answer.error_code in accept and answer.type != "ErrorResponse"):
                    return answer
                if answer.error_code == NO_RIGHT:
                    if flow is None or flow.sent is None:
                        raise answer_error(answer, request=kind, message=NO_CREDENTIALS)
                    await flow.refused(answer.message, _refusal(answer, kind, connection.where))
                    continue  # replay
                failure = answer_error(answer, request=kind)
                if answer.error_code == UNREGISTERED:
                    self._lost(connection, "the server says the connection is unregistered")
                elif not answer.retryable:
                    raise failure
            attempt += 1
            pause = 0.0 if connection.lost else self._backoff.delay(attempt, self._rng)
            if attempt >= self._settings.max_attempts or self._clock.now() + pause >= deadline:
                raise failure
            self._events.emit("retry", path=kind, attempt=attempt, reason=str(failure))
            if pause:
                await self._clock.sleep(pause)

    async def _connection_for(self, kind: str, budget: float, deadline: float) -> GrpcConnection:
        try:
            return await self.wait_connected(deadline, attempts=self._settings.max_attempts)
        except NacosTimeoutError:
            raise NacosConnectionError(
                f"no gRPC connection within {budget:g}s: waited for a connection to "
                f"{self._target()} (last error: {self.last_error or 'none yet'})",
                method="gRPC", path=kind,
            ) from None  # fmt: skip

    def _count(self, kind: str, connection: GrpcConnection, answer: Answer, started: float) -> None:
        events = self._events
        if events.wants("request"):
            events.emit(
                "request", method="gRPC", path=kind, server=connection.where,
                status=answer.error_code or answer.result_code,
                duration=self._clock.now() - started,
            )  # fmt: skip
        else:
            events.count("request")

    # ----- the connection loop -----------------------------------------------------------------
    def _start(self) -> None:
        if self._loop is None and not self._closed:
            self._loop = self._supervisor.start_loop(f"grpc-{self.module}", self._step)

    def _target(self) -> str:
        server = self.servers.current()
        return f"{server.host}:{self._port(server)}"

    def _port(self, server: ServerAddress) -> int:
        port = server.port + self._settings.grpc_port_offset
        if port > 65535:
            raise NacosConnectionError(
                f"gRPC port {port} out of range: server port {server.port} + grpc_port_offset "
                f"{self._settings.grpc_port_offset}"
            )
        return port

    async def _step(self) -> float:
        connection = self._connection
        if connection is None or self._switching:
            return await self._connect(connection)
        idle = self._clock.now() - connection.last_activity
        if idle < HEALTH_IDLE:
            return HEALTH_IDLE - idle
        if await self._healthy(connection):
            return HEALTH_IDLE
        self._lost(connection, "health check failed")
        return 0.0

    async def _connect(self, old: GrpcConnection | None) -> float:
        server = self.servers.current()
        try:
            connection = GrpcConnection(
                server, self._port(server), module=self.module,
                tenant="" if self._settings.namespace == "public" else self._settings.namespace,
                labels=self._labels | {"tls.enable": str(server.scheme == "https").lower()},
                tls=self._tls_for(server), clock=self._clock, spawn=self._spawn,
                on_push=self._pushed, on_reset=self._reset, on_lost=self._lost,
                max_message_bytes=self._max_message_bytes,
            )  # fmt: skip
            try:
                await connection.open(min(CONNECT_TIMEOUT, self._settings.request_timeout))
            except BaseException:
                connection.close()
                raise
        except NacosError as exc:
            return self._failed(server, exc, switching=old is not None)
        if self._closed:
            connection.close()
            return 0.0
        self._connection = connection
        self._switching = False
        self.failures = 0
        self.generation += 1
        self._moved_on()
        if old is not None:
            old.close()
        self._events.emit(
            "grpc_connected", module=self.module, server=connection.where,
            connection_id=connection.id, generation=self.generation,
        )  # fmt: skip
        for listener in list(self._listeners):
            try:
                listener(self.generation)
            except Exception:
                logger.exception("gRPC connection listener %r failed", listener)
        return HEALTH_IDLE

    def _failed(self, server: ServerAddress, exc: NacosError, *, switching: bool) -> float:
        self.last_error = str(exc)
        self._moved_on()
        if switching:  # the old connection is healthy: stay on it
            self._switching = False
            logger.warning("gRPC %s: could not switch servers, staying: %s", self.module, exc)
            return HEALTH_IDLE
        self.failures += 1
        self.servers.mark_failed(server)
        delay = self._backoff.delay(self.failures, self._rng)
        self._events.emit(
            "grpc_connect_failed", module=self.module, server=str(server),
            failures=self.failures, retry_in=round(delay, 3), error=str(exc),
        )  # fmt: skip
        if self.failures == 1 or self.failures % 10 == 0:
            logger.warning("gRPC %s: cannot connect (%d failures): %s", self.module,
                           self.failures, exc)  # fmt: skip
        return delay

    async def _healthy(self, connection: GrpcConnection) -> bool:
        payload = json_payload("HealthCheckRequest", {"headers": {}, "module": "internal"})
        try:
            reply = await connection.call(payload, HEALTH_TIMEOUT)
            return read_answer(reply).ok  # 301 (unregistered) is not healthy
        except NacosError:
            return False

    def _spawn(self, fn: Callable[[], Coroutine[Any, Any, None]], name: str) -> asyncio.Task[None]:
        return self._supervisor.spawn(fn, name=name)

    def _tls_for(self, server: ServerAddress) -> ssl.SSLContext | None:
        if server.scheme != "https":
            return None
        if self._tls is None:
            self._tls = client_context(self._settings, alpn=("h2",))
        return self._tls

    def _moved_on(self) -> None:
        self._moved.set()
        self._moved = anyio.Event()

    # ----- what a connection reports -----------------------------------------------------------
    def _lost(self, connection: GrpcConnection, why: str) -> None:
        """``connection`` is gone (or must go): forget it and connect again."""
        connection.close()
        if connection is not self._connection or self._closed:
            return
        self._connection = None
        self.last_error = why
        self.servers.mark_failed(connection.server)
        self._events.emit("grpc_disconnected", module=self.module, server=connection.where,
                          connection_id=connection.id, reason=why)  # fmt: skip
        if self._loop is not None:
            self._loop.wake()

    def _reset(self, connection: GrpcConnection, server_ip: str, server_port: str) -> None:
        """The server asked us to move: to ``server_ip:server_port`` if we know it, else on."""
        if connection is not self._connection or self._closed:
            return
        named = next(
            (s for s in self.servers.servers
             if s.host == server_ip and str(s.port) == server_port),
            None,
        )  # fmt: skip
        if named is None or not self.servers.select(named):
            self.servers.mark_failed(connection.server)
        self._switching = True
        self._events.emit("grpc_reset", module=self.module, server=connection.where,
                          to=str(self.servers.current()))  # fmt: skip
        if self._loop is not None:
            self._loop.wake()

    def _pushed(self, kind: str, body: dict[str, Any]) -> bool:
        handler = self._push_handlers.get(kind)
        if handler is None:
            return False
        try:
            handler(body)
        except Exception:
            logger.exception("gRPC push handler for %s failed", kind)
        return True

    # ----- closing -----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop connecting and drop the connection; waiting requests get ``NacosClosedError``."""
        if self._closed:
            return
        self._closed = True
        if self._loop is not None:
            self._loop.cancel()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        self._moved_on()  # wake waiters: they find the channel closed

    def abandon(self) -> None:
        """In a forked child: forget the parent's connection without touching its socket."""
        self._closed = True
        self._connection = None


def _refusal(answer: Answer, kind: str, where: str) -> MakeError:
    def make(cls: type[NacosAuthError], message: str) -> NacosAuthError:
        return cls(message, method="gRPC", path=kind, server=where, code=answer.error_code,
                   server_message=answer.message or None)  # fmt: skip

    return make
