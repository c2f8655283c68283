"""``NacosClient``: the facade that builds the runtime and owns the client's lifecycle.

Its public surface is small on purpose: ``config``, ``naming``, ``request``, ``stats``,
``health()``, event hooks, ``settings``, ``start``/``close``. Everything else (the token
manager, the request sender, the supervisor) stays private and reaches the services through a
narrow ``Runtime``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Coroutine, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import aiohttp
import anyio

from nacos_async._binding import Binding
from nacos_async._runtime import Runtime
from nacos_async.api_version import ApiVersions
from nacos_async.auth import AuthPolicy
from nacos_async.background import Supervisor
from nacos_async.clock import SYSTEM_CLOCK, Clock
from nacos_async.errors import NacosClosedError, NacosServerError
from nacos_async.events import ClientStats, EventHook, Events
from nacos_async.health import ClientHealth
from nacos_async.login import PasswordLogin
from nacos_async.response import Response
from nacos_async.sender import Sender
from nacos_async.servers import (
    DEFAULT_ENDPOINT_PORT,
    ServerList,
    parse_server_address,
    parse_server_addresses,
    parse_server_list_body,
)
from nacos_async.signing import AccessKeySigner, Resource
from nacos_async.telemetry import install as install_telemetry
from nacos_async.token import TokenManager
from nacos_async.transport import AiohttpTransport, HttpTransport
from nacos_async.transport_choice import Transport, check_grpc_available, choose_transport

if TYPE_CHECKING:
    from nacos_async.config.backend import ConfigBackend
    from nacos_async.config.service import ConfigService
    from nacos_async.grpc.channel import GrpcChannel
    from nacos_async.naming.backend import NamingBackend
    from nacos_async.naming.service import NamingService
    from nacos_async.settings import NacosSettings

logger = logging.getLogger("nacos_async")
State = Literal["new", "running", "closing", "closed"]


class NacosClient:
    """An asyncio Nacos client. Use ``async with NacosClient(...) as nacos:``.

    Arguments are the fields of ``NacosSettings`` (unset ones are read from ``NACOS_*``
    environment variables). A ``session`` given by the caller is used and never closed; a
    ``transport`` object (e.g. ``nacos_async.testing.MockTransport``) replaces the network
    entirely, while ``transport="auto"|"http"|"grpc"`` is the setting of that name.
    """

    def __init__(
        self,
        server_addr: str | None = None,
        *,
        settings: NacosSettings | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: HttpTransport | str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        **options: Any,
    ) -> None:
        if isinstance(transport, str):  # the ``transport`` setting, not an HTTP transport
            options["transport"] = transport
            transport = None
        if settings is None:
            from nacos_async.settings import NacosSettings  # pydantic: loaded on first use

            if server_addr is not None:
                options["server_addr"] = server_addr
            settings = NacosSettings(**options)
        elif server_addr is not None or options:
            raise ValueError("pass either settings= or individual options, not both")
        if session is not None and transport is not None:
            raise ValueError("pass a session or a transport, not both")
        check_grpc_available(settings)
        self._settings = settings
        clock = clock or SYSTEM_CLOCK
        rng = rng or random.Random()
        self._events = events = Events()
        self._supervisor = supervisor = Supervisor(clock=clock, events=events, rng=rng)
        self._binding = Binding()
        self._custom_http = transport is not None
        self._http = transport or AiohttpTransport(settings, session=session)
        self._auth = AuthPolicy(
            None,
            events,
            placement=settings.token_placement,
            signer=(
                AccessKeySigner(settings.access_key, settings.secret_key)
                if settings.access_key is not None and settings.secret_key is not None
                else None
            ),
        )
        self._sender = Sender(
            settings,
            ServerList(parse_server_addresses(settings.server_addr), rng=rng),
            self._http,
            self._auth,
            clock=clock,
            events=events,
            binding=self._binding,
            rng=rng,
        )
        api = ApiVersions(settings.api_version, events)
        self._tokens: TokenManager | None = None
        if settings.username is not None and settings.password is not None:
            login = PasswordLogin(self._sender.request, api, settings.username, settings.password)
            self._tokens = TokenManager(
                login,
                clock=clock,
                events=events,
                supervisor=supervisor,
                rng=rng,
                relogin_min_interval=settings.relogin_min_interval,
            )
            self._auth.tokens = self._tokens
        self._runtime = Runtime(settings, clock, events, supervisor, rng, self._sender.request, api)
        self._transport: Transport | None = None  # chosen at start
        self._config_backend: ConfigBackend | None = None  # built on first use after start
        self._naming_backend: NamingBackend | None = None  # likewise
        self._grpc_channels: list[GrpcChannel] = []  # one per module that uses gRPC
        if settings.telemetry:
            install_telemetry(events)
        self._state: State = "new"

    @classmethod
    def from_settings(
        cls,
        settings: NacosSettings,
        *,
        session: aiohttp.ClientSession | None = None,
        transport: HttpTransport | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> Self:
        return cls(settings=settings, session=session, transport=transport, clock=clock, rng=rng)

    def __repr__(self) -> str:
        s = self._settings
        auth = f"user={s.username!r}" if s.username else "auth=off"
        servers = [str(x) for x in self._sender.servers.servers]
        return (
            f"NacosClient(servers={servers!r}, namespace={s.namespace!r}, {auth}, "
            f"state={self._state})"
        )

    @cached_property
    def config(self) -> ConfigService:
        """Dynamic configuration: get, publish, delete, watch, typed models."""
        from nacos_async.config.backend import BackendChosenAtStart
        from nacos_async.config.service import ConfigService

        return ConfigService(self._runtime, BackendChosenAtStart(self._chosen_config_backend))

    @cached_property
    def naming(self) -> NamingService:
        """Service discovery: register, list, select, watch."""
        from nacos_async.naming.backend import BackendChosenAtStart
        from nacos_async.naming.service import NamingService

        return NamingService(self._runtime, BackendChosenAtStart(self._chosen_naming_backend))

    @property
    def settings(self) -> NacosSettings:
        return self._settings

    @property
    def stats(self) -> ClientStats:
        """A copy of the counters: logins, refreshes, replays, failovers, ..."""
        return ClientStats(**self._events.stats.as_dict())

    def health(self) -> ClientHealth:
        """A snapshot for readiness probes: token, servers, background work, services."""
        tokens = self._tokens
        token = tokens.current if tokens is not None else None
        now = self._runtime.clock.now()
        return ClientHealth(
            state=self._state,
            servers=[str(s) for s in self._sender.servers.servers],
            current_server=str(self._sender.servers.current()),
            auth=tokens is not None,
            transport=self._transport,
            token_valid_for=max(0.0, token.expires_at - now) if token is not None else None,
            login_failures=tokens.failures if tokens is not None else 0,
            last_login_error=str(tokens.last_error) if tokens and tokens.last_error else None,
            background_crashes=list(self._supervisor.crashes),
            failing_loops={
                loop.name: loop.last_error or "" for loop in self._supervisor.loops if loop.failures
            },
            services={name: probe() for name, probe in self._runtime.health.items()},
        )

    def add_event_hook(self, hook: EventHook) -> None:
        """Call ``hook(event)`` for every login, refresh, replay, failover, ... (sync, fast)."""
        self._events.add_hook(hook)

    def remove_event_hook(self, hook: EventHook) -> None:
        self._events.remove_hook(hook)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Open the session, read the address server, log in (unless ``lazy_login``)."""
        if self._state == "running":
            return
        if self._state != "new":
            raise NacosClosedError("a closed client cannot be started again")
        self._binding.bind()
        await self._sender.open()
        self._supervisor.start()
        self._state = "running"
        try:
            settings = self._settings
            if settings.endpoint is not None:
                await self._refresh_server_list()
                self._supervisor.start_loop(
                    "server-list",
                    self._server_list_step,
                    initial_delay=settings.endpoint_refresh_interval,
                )
            await self._choose_transport()
            if self._tokens is not None:
                if not settings.lazy_login:
                    await self._tokens.get()
                self._tokens.start(lazy=settings.lazy_login)
        except BaseException:
            await self.close()
            raise

    async def _choose_transport(self) -> None:
        """Pick HTTP or gRPC for config and naming, once (each backend is built when its
        service is first used)."""
        choice, why = await choose_transport(
            self._settings, self._sender.servers.current(), http_only=self._custom_http
        )
        self._transport = choice
        self._events.emit("transport_chosen", transport=choice, reason=why)  # logged at INFO

    def _grpc_channel(self, module: str) -> GrpcChannel:
        """A new gRPC channel for ``module`` (its own connection, labelled module=...)."""
        from nacos_async.grpc.channel import GrpcChannel

        channel = GrpcChannel(
            module, settings=self._settings, servers=self._sender.servers, auth=self._auth,
            supervisor=self._supervisor, clock=self._runtime.clock, events=self._events,
            binding=self._binding, rng=self._runtime.rng,
        )  # fmt: skip
        self._grpc_channels.append(channel)
        return channel

    def _chosen_config_backend(self, build: bool) -> ConfigBackend | None:
        """The config backend of the chosen transport, built once (when ``build``); None
        before start."""
        if self._config_backend is not None or self._transport is None or not build:
            return self._config_backend
        if self._transport == "grpc":
            from nacos_async.grpc.config import GrpcConfigBackend

            channel = self._grpc_channel("config")
            self._runtime.add_health("grpc-config", channel.health)
            self._config_backend = GrpcConfigBackend(self._runtime, channel)
        else:
            from nacos_async.config.http import HttpConfigBackend

            self._config_backend = HttpConfigBackend(self._runtime)
        return self._config_backend

    def _chosen_naming_backend(self, build: bool) -> NamingBackend | None:
        """The naming backend of the chosen transport, built once (when ``build``); None
        before start. Over gRPC it keeps an HTTP one for what gRPC cannot do on some servers."""
        if self._naming_backend is not None or self._transport is None or not build:
            return self._naming_backend
        from nacos_async.naming.http import HttpNamingBackend

        http = HttpNamingBackend(self._runtime)
        if self._transport == "grpc":
            from nacos_async.grpc.naming import GrpcNamingBackend

            channel = self._grpc_channel("naming")
            backend = GrpcNamingBackend(self._runtime, channel, http)
            self._runtime.add_health(
                "grpc-naming", lambda: channel.health() | backend.connection_health()
            )
            self._naming_backend = backend
        else:
            self._naming_backend = http
        return self._naming_backend

    async def close(self, *, timeout: float = 5.0) -> None:
        """Run the services' closers, stop background work, close the session.

        Works from any task, including a listener or loop the client runs itself, and ends
        within about ``timeout`` seconds even when the server hangs.
        """
        if self._state in ("closing", "closed"):
            return
        if self._binding.forked:
            self._abandon()  # the connections belong to the parent process: do not touch them
            return
        clock = self._runtime.clock
        was_running = self._state == "running"
        self._state = "closing"
        deadline = clock.now() + timeout
        try:
            if was_running:
                await self._run_closers(timeout)
        finally:
            if self._tokens is not None:
                self._tokens.close()
            for channel in self._grpc_channels:
                channel.close()
            await self._supervisor.stop(timeout=max(0.1, deadline - clock.now()))
            await self._sender.close()
            self._state = "closed"

    async def _run_closers(self, timeout: float) -> None:
        with anyio.move_on_after(timeout) as scope:
            for closer in reversed(self._runtime.closers):
                await closer()
        if scope.cancelled_caught:
            logger.warning("closing the services took longer than %gs; stopped waiting", timeout)

    def _abandon(self) -> None:
        self._state = "closed"
        if isinstance(self._http, AiohttpTransport):
            self._http.abandon()
        for channel in self._grpc_channels:
            channel.abandon()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        timeout: float | None = None,
        resource: Resource | None = None,
        accept: tuple[int, ...] = (),
    ) -> Coroutine[Any, Any, Response]:
        """Call any Nacos endpoint (path below the context path, e.g. ``/v1/ns/operator/metrics``)
        with the client's failover, retries and token handling; ``await`` it.

        The sender's own coroutine, not one awaiting it: one layer less on every call.
        """
        if self._state not in ("running", "closing"):  # closers may still send while closing
            return _raise(
                NacosClosedError(f"client is {self._state}; use `async with` or `await start()`")
            )
        # in order, not by keyword: cheaper, and this is on every call
        return self._sender.request(
            method, path, params, data, headers, auth, timeout, resource, accept
        )

    async def _server_list_step(self) -> float:
        await self._refresh_server_list()
        return self._settings.endpoint_refresh_interval

    async def _refresh_server_list(self) -> None:
        """Read the address server through the sender: the same limits, errors and no redirects."""
        settings = self._settings
        assert settings.endpoint is not None
        endpoint = parse_server_address(settings.endpoint, default_port=DEFAULT_ENDPOINT_PORT)
        params = {"namespace": settings.namespace} if settings.namespace != "public" else None
        response = await self._sender.request(
            "GET", "/serverlist", params=params, auth=False, server=endpoint
        )
        try:
            servers = parse_server_list_body(response.text())
        except ValueError as exc:
            raise NacosServerError(
                f"address server sent a bad list: {exc}", server=str(endpoint)
            ) from None
        self._sender.servers.replace(servers)


async def _raise(error: Exception) -> Any:
    """A coroutine that raises ``error`` when awaited (where an ``async def`` would raise it)."""
    raise error
