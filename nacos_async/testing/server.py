"""``NacosDevServer``: the public face of the dev server, its lifecycle and fault switches.

It owns the state (``DevState``) and the two sides that serve it: the HTTP pipeline and, with
grpclib, the gRPC side on ``port + 1000``. Both get the state, never the server; the control
routes get its lifecycle actions through the small ``ServerControl`` protocol.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from aiohttp import web

from nacos_async.clock import SYSTEM_CLOCK, Clock
from nacos_async.testing import _routes_control
from nacos_async.testing._auth import JwtCodec, UserStore
from nacos_async.testing._config_store import ConfigStore
from nacos_async.testing._errors import Flavor, FlavorTraits
from nacos_async.testing._faults import Faults
from nacos_async.testing._grpc_side import GRPC_PORT_OFFSET, GrpcSide, grpclib_available
from nacos_async.testing._http_pipeline import HttpPipeline
from nacos_async.testing._naming_store import NamingStore, ServiceMetadata
from nacos_async.testing._state import DevState
from nacos_async.testing._stats import DevServerStats

T = TypeVar("T")


class _InState(Generic[T]):
    """A public attribute of ``NacosDevServer`` that lives in its ``DevState`` (read and set)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, server: None, owner: type) -> Self: ...
    @overload
    def __get__(self, server: NacosDevServer, owner: type) -> T: ...
    def __get__(self, server: NacosDevServer | None, owner: type) -> T | Self:
        if server is None:
            return self
        value: T = getattr(server._state, self._name)
        return value

    def __set__(self, server: NacosDevServer, value: T) -> None:
        setattr(server._state, self._name, value)


class NacosDevServer:
    """A Nacos-compatible HTTP server for tests and local development.

    Use ``async with NacosDevServer() as server`` or ``await start()`` / ``await close()``.
    ``flavor`` picks the Nacos generation to imitate: "2.x" (v1+v2), "3.1" (v1 client APIs + v3,
    v2 and v1 admin answer 410), "3.2" (v3 and the v1 login only) or "3.3" (as 3.2; the real
    3.3 turns client auth on when the operator does not say). ``auth`` (client APIs) and
    ``admin_auth`` (3.x admin APIs) are on unless turned off, whatever the flavor. With
    ``grpc`` on (the default when grpclib is installed) it also speaks Nacos gRPC on
    ``port + 1000``.
    """

    auth: _InState[bool] = _InState()
    admin_auth: _InState[bool] = _InState()
    flavor: _InState[Flavor] = _InState()
    token_ttl: _InState[int] = _InState()
    identity_key: _InState[str | None] = _InState()
    identity_value: _InState[str | None] = _InState()
    long_poll_min_hold: _InState[float] = _InState()
    max_form_size: _InState[int] = _InState()
    context_path: _InState[str] = _InState()
    clock_offset: _InState[float] = _InState()
    jwt: _InState[JwtCodec] = _InState()
    users: _InState[UserStore] = _InState()
    configs: _InState[ConfigStore] = _InState()
    naming: _InState[NamingStore] = _InState()
    stats: _InState[DevServerStats] = _InState()
    faults: _InState[Faults] = _InState()

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        auth: bool = True,
        username: str = "nacos",
        password: str = "nacos",
        token_ttl: int = 18000,
        flavor: Flavor = "2.x",
        secret_key: str | None = None,
        admin_auth: bool | None = None,
        identity_key: str | None = "serverIdentity",
        identity_value: str | None = "security",
        clock: Clock | None = None,
        wall_time: Callable[[], float] = time.time,
        data_dir: str | os.PathLike[str] | None = None,
        long_poll_min_hold: float = 10.0,
        max_form_size: int = 2 * 1024 * 1024,
        context_path: str = "/nacos",
        grpc: bool | None = None,
    ) -> None:
        if grpc and not grpclib_available():
            raise RuntimeError("grpc=True needs grpclib: pip install 'nacos-async[grpc]'")
        self._state = DevState(
            auth=auth,
            username=username,
            password=password,
            token_ttl=token_ttl,
            flavor=flavor,
            secret_key=secret_key,
            admin_auth=True if admin_auth is None else admin_auth,
            identity_key=identity_key,
            identity_value=identity_value,
            clock=clock or SYSTEM_CLOCK,
            wall_time=wall_time,
            data_dir=data_dir,
            long_poll_min_hold=long_poll_min_hold,
            max_form_size=max_form_size,
            context_path=context_path,
        )
        self.host = host
        self._requested_port = port
        self._http = HttpPipeline(self._state, self._control)
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None
        self._port: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.paused = False
        use_grpc = grpclib_available() if grpc is None else grpc
        self._grpc = GrpcSide(self._state) if use_grpc else None

    # ----- lifecycle --------------------------------------------------------------------------
    async def start(self) -> Self:
        """Bind and serve; ``port=0`` picks a free port (see ``address``)."""
        if self._runner is not None:
            raise RuntimeError("the dev server is already started")
        self._runner = web.AppRunner(
            self._http.application(),
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
        )
        await self._runner.setup()
        await self._bind()
        return self

    async def close(self) -> None:
        """Stop serving, end parked listeners and background tasks; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._http.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.configs.wake_all()
        await self._unbind()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _bind(self) -> None:
        """Listen on the HTTP port and, with gRPC, on port + 1000 (a free pair for port 0)."""
        port = self._port if self._port is not None else self._requested_port
        attempts = _PORT_PAIR_ATTEMPTS if port == 0 and self._grpc is not None else 1
        for attempt in range(attempts):
            try:
                await self._bind_pair(port)
                break
            except OSError:
                if attempt + 1 == attempts:
                    raise
        self.paused = False

    async def _bind_pair(self, port: int) -> None:
        assert self._runner is not None
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, port))
            bound = sock.getsockname()[1]
            if self._grpc is not None:
                await self._grpc.bind(self.host, _grpc_port(bound))
            sock.setblocking(False)
            self._site = web.SockSite(self._runner, sock)
            await self._site.start()
        except BaseException:
            sock.close()
            if self._grpc is not None:
                await self._grpc.unbind()
            raise
        self._port = bound

    async def _unbind(self) -> None:
        """Close the listening sockets and every open connection (HTTP and gRPC)."""
        if self._site is not None:
            site, self._site = self._site, None
            await site.stop()
        self._abort_connections()
        if self._grpc is not None:
            await self._grpc.unbind()

    def _abort_connections(self) -> int:
        if self._runner is None or self._runner.server is None:
            return 0
        handlers = self._runner.server.connections
        for handler in handlers:
            transport = handler.transport
            if transport is not None:
                transport.abort()
        return len(handlers)

    async def _control(self, request: web.Request) -> web.StreamResponse:
        """``/__dev__/``: the control routes act on the state and this server's lifecycle."""
        return await _routes_control.handle(self._state, self, request)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a background task owned by the server (cancelled on close)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def traits(self) -> FlavorTraits:
        """What the imitated Nacos generation serves and how it answers."""
        return self._state.traits

    # ----- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the dev server is not started")
        return self._port

    @property
    def address(self) -> str:
        """``host:port``, what clients take as a server address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def grpc(self) -> GrpcSide:
        """The gRPC side: its connections and fault switches (RuntimeError when gRPC is off)."""
        if self._grpc is None:
            raise RuntimeError("gRPC is off on this dev server (grpc=False, or no grpclib)")
        return self._grpc

    @property
    def grpc_enabled(self) -> bool:
        return self._grpc is not None

    @property
    def grpc_port(self) -> int:
        """The Nacos gRPC port: ``port + 1000``."""
        return self.grpc.port

    @property
    def grpc_address(self) -> str:
        """``host:grpc_port``, what a gRPC channel dials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.grpc_port}"

    @property
    def url(self) -> str:
        """Base URL including the context path, e.g. ``http://127.0.0.1:8848/nacos``."""
        return f"http://{self.address}{self.context_path}"

    # ----- time and tokens ---------------------------------------------------------------------
    def wall_time(self) -> float:
        """The server's epoch seconds: the injected wall clock plus ``clock_offset``."""
        return self._state.wall_time()

    def issue_token(self, username: str, ttl: int | None = None) -> tuple[str, int]:
        """A token for ``username`` and its ``exp`` (epoch seconds)."""
        return self._state.issue_token(username, ttl)

    @property
    def admin_username(self) -> str:
        """The built-in admin user's name (``username=``)."""
        return self._state.admin_username

    @property
    def admin_password(self) -> str:
        return self._state.admin_password

    @property
    def secret_key(self) -> str:
        """The current base64 secret (changes on ``rotate_secret``)."""
        return self.jwt.secret

    def add_user(
        self,
        username: str,
        password: str,
        *,
        admin: bool = False,
        permissions: list[tuple[str, str]] | None = None,
    ) -> None:
        """Add a user; ``permissions`` are ``(resource pattern, "r"|"w"|"rw")`` pairs."""
        self.users.add(username, password, admin=admin, permissions=permissions)

    def remove_user(self, username: str) -> None:
        """Delete the login; tokens already issued keep working (as in Nacos)."""
        self.users.remove(username)

    # ----- fault switches ----------------------------------------------------------------------
    def rotate_secret(self, secret_key: str | None = None) -> str:
        """New secret key: every issued token now fails with "Invalid signature"."""
        return self._state.rotate_secret(secret_key)

    def expire_tokens(self) -> None:
        """Every token issued so far now fails with "token expired!"."""
        self._state.expire_tokens()

    def set_token_ttl(self, seconds: int) -> None:
        """TTL of tokens issued from now on."""
        self._state.set_token_ttl(seconds)

    def skew_clock(self, seconds: float) -> None:
        """Move the server's wall clock (token ``exp`` checks) by ``seconds``."""
        self._state.skew_clock(seconds)

    def set_latency(self, seconds: float) -> None:
        """Delay every (non-control) request by ``seconds`` before handling it."""
        self._state.set_latency(seconds)

    def fail_next(
        self, count: int = 1, status: int = 500, *, body: str = "", path: str | None = None
    ) -> None:
        """Answer the next ``count`` requests (under ``path``) with ``status``; 0 drops them."""
        self.faults.add_failures(count, status, body, path)

    def serve_gzip_bomb(
        self, count: int = 1, *, inflated: int = 64 << 20, path: str | None = None
    ) -> None:
        """Answer the next ``count`` requests (under ``path``) with a 200 whose small gzip body
        inflates to ``inflated`` bytes (64 MiB by default)."""
        self.faults.add_gzip_bombs(count, inflated, path)

    def reset_connections(self) -> int:
        """Abort every open connection (held long-polls included); returns how many."""
        self.stats.faults["reset_connections"] += 1
        return self._abort_connections()

    async def pause(self) -> None:
        """Close the listening socket and open connections: new connections are refused."""
        self.stats.faults["pause"] += 1
        await self._unbind()
        self.paused = True

    async def resume(self) -> None:
        """Listen again on the same port."""
        if self._runner is None:
            raise RuntimeError("the dev server is not started")
        if self._site is None:
            await self._bind()

    def forget_instances(self) -> None:
        """Drop every service and instance: beats get 20404 / 21003 until re-registered."""
        self._state.forget_instances()

    async def restart(self, keep_state: bool = True) -> None:
        """Drop connections and listen again on the same port.

        With ``keep_state=False`` the server comes back as a fresh process would: configs
        from the data directory only, no instances, default users, no faults. The secret key
        survives (it is configuration), so tokens still verify.
        """
        await self._unbind()
        if not keep_state:
            self._state.start_fresh()
        self.configs.wake_all()
        await self._bind()
        self.stats.faults["restart"] += 1  # counted once serving again (tests wait on it)

    # ----- convenience for tests ---------------------------------------------------------------
    def publish_config(
        self,
        data_id: str,
        content: str,
        group: str = "DEFAULT_GROUP",
        namespace: str = "public",
        type: str | None = None,
    ) -> str:
        """Store a config directly (wakes listeners); returns its MD5."""
        return self.configs.publish(namespace, group, data_id, content, type=type).md5

    def get_config(
        self, data_id: str, group: str = "DEFAULT_GROUP", namespace: str = "public"
    ) -> str | None:
        item = self.configs.get(namespace, group, data_id)
        return item.content if item else None

    def create_service(
        self,
        name: str,
        group: str = "DEFAULT_GROUP",
        namespace: str = "public",
        *,
        protect_threshold: float = 0.0,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Store service metadata as an operator does (admin API); only such a service gets
        the protect threshold applied to its instance lists."""
        stored = ServiceMetadata(protect_threshold, dict(metadata or {}))
        for store in self.naming.everywhere():
            store.store_service(namespace, group, name, stored)

    async def wait_for_listeners(self, count: int = 1, *, within: float = 5.0) -> None:
        """Wait until ``count`` long-poll requests are parked (to publish at the right time)."""
        async with asyncio.timeout(within):
            await self.configs.wait_for_listeners(count)

    # ----- responses ---------------------------------------------------------------------------
    def spring_error(self, request: web.Request, status: int, message: str) -> web.Response:
        return self._state.spring_error(request, status, message)

    def not_found(self, request: web.Request) -> web.Response:
        """Spring's 404 for an unmapped path (the way clients detect an absent API)."""
        return self._state.not_found(request)


_PORT_PAIR_ATTEMPTS = 20  # port 0: tries for an HTTP port whose + 1000 is free too


def _grpc_port(http_port: int) -> int:
    port = http_port + GRPC_PORT_OFFSET
    if port > 65535:
        raise OSError(f"no gRPC port for HTTP port {http_port}: {port} is above 65535")
    return port
