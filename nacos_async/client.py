"""``NacosClient``: the facade that owns the session, the token manager and background work."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import aiohttp
import anyio

from nacos_async.api_version import ApiVersions
from nacos_async.auth import PasswordLogin
from nacos_async.background import Supervisor
from nacos_async.clock import SYSTEM_CLOCK, Clock
from nacos_async.errors import NacosClosedError, NacosConnectionError, NacosServerError
from nacos_async.events import ClientStats, EventHook, Events
from nacos_async.response import Response
from nacos_async.servers import (
    DEFAULT_ENDPOINT_PORT,
    ServerList,
    parse_server_address,
    parse_server_addresses,
    parse_server_list_body,
)
from nacos_async.settings import NacosSettings
from nacos_async.signing import AccessKeySigner, Resource
from nacos_async.telemetry import install as install_telemetry
from nacos_async.token import TokenManager
from nacos_async.transport import Transport

if TYPE_CHECKING:
    from nacos_async.config.service import ConfigService
    from nacos_async.naming.service import NamingService

Closer = Callable[[], Awaitable[None]]


class NacosClient:
    """An asyncio Nacos client. Use ``async with NacosClient(...) as nacos:``.

    Arguments are the fields of ``NacosSettings`` (unset ones are read from ``NACOS_*``
    environment variables). A ``session`` given by the caller is used and never closed.
    """

    def __init__(
        self,
        server_addr: str | None = None,
        *,
        settings: NacosSettings | None = None,
        session: aiohttp.ClientSession | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        **options: Any,
    ) -> None:
        if settings is None:
            if server_addr is not None:
                options["server_addr"] = server_addr
            settings = NacosSettings(**options)
        elif server_addr is not None or options:
            raise ValueError("pass either settings= or individual options, not both")
        self._settings = settings
        self._clock = clock or SYSTEM_CLOCK
        self._rng = rng or random.Random()
        self._events = Events()
        self._supervisor = Supervisor(clock=self._clock, events=self._events, rng=self._rng)
        servers = ServerList(parse_server_addresses(settings.server_addr), rng=self._rng)
        self._transport = Transport(
            settings,
            servers,
            clock=self._clock,
            events=self._events,
            session=session,
            rng=self._rng,
        )
        self.api = ApiVersions(settings.api_version, self._events)
        self._tokens: TokenManager | None = None
        if settings.username is not None and settings.password is not None:
            login = PasswordLogin(
                self._transport.request,
                settings.username,
                settings.password,
                api_version=settings.api_version,
            )
            self._tokens = TokenManager(
                login,
                clock=self._clock,
                events=self._events,
                spawn=lambda fn: self._supervisor.spawn(fn, name="nacos-async-login"),
                rng=self._rng,
                relogin_min_interval=settings.relogin_min_interval,
            )
            self._transport.tokens = self._tokens
        if settings.access_key is not None and settings.secret_key is not None:
            self._transport.signer = AccessKeySigner(settings.access_key, settings.secret_key)
        if settings.telemetry:
            install_telemetry(self._events)
        self._closers: list[Closer] = []
        self._state = "new"

    @classmethod
    def from_settings(
        cls,
        settings: NacosSettings,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> Self:
        return cls(settings=settings, session=session, clock=clock, rng=rng)

    def __repr__(self) -> str:
        s = self._settings
        auth = f"user={s.username!r}" if s.username else "auth=off"
        return (
            f"NacosClient(servers={[str(x) for x in self._transport.servers.servers]!r}, "
            f"namespace={s.namespace!r}, {auth}, state={self._state})"
        )

    @cached_property
    def config(self) -> ConfigService:
        """Dynamic configuration: get, publish, delete, watch, typed models."""
        from nacos_async.config.service import ConfigService

        return ConfigService(self)

    @cached_property
    def naming(self) -> NamingService:
        """Service discovery: register, list, select, watch."""
        from nacos_async.naming.service import NamingService

        return NamingService(self, rng=self._rng)

    @property
    def settings(self) -> NacosSettings:
        return self._settings

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def stats(self) -> ClientStats:
        """A copy of the counters: logins, refreshes, replays, failovers, ..."""
        return ClientStats(**self._events.stats.as_dict())

    @property
    def events(self) -> Events:
        return self._events

    @property
    def supervisor(self) -> Supervisor:
        return self._supervisor

    @property
    def tokens(self) -> TokenManager | None:
        """The token manager, or None when auth is off."""
        return self._tokens

    @property
    def transport(self) -> Transport:
        return self._transport

    def add_event_hook(self, hook: EventHook) -> None:
        """Call ``hook(event)`` for every login, refresh, replay, failover, ... (sync, fast)."""
        self._events.add_hook(hook)

    def remove_event_hook(self, hook: EventHook) -> None:
        self._events.remove_hook(hook)

    def add_closer(self, closer: Closer) -> None:
        """Run ``closer`` at the start of ``close()``, while requests still work."""
        self._closers.append(closer)

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
        if self._state == "closed":
            raise NacosClosedError("a closed client cannot be started again")
        await self._transport.open()
        await self._supervisor.start()
        self._state = "running"
        try:
            if self._settings.endpoint is not None:
                await self._refresh_server_list()
                self._supervisor.start_loop(
                    "server-list",
                    self._server_list_step,
                    initial_delay=self._settings.endpoint_refresh_interval,
                )
            if self._tokens is not None:
                if not self._settings.lazy_login:
                    await self._tokens.get()
                self._supervisor.start_loop("token-refresh", self._token_refresh_step)
        except BaseException:
            await self.close()
            raise

    async def close(self, *, timeout: float = 5.0) -> None:
        """Run closers (bounded by ``timeout``), stop background work, close the session."""
        if self._state == "closed":
            return
        was_running = self._state == "running"
        self._state = "closing"
        try:
            if was_running and self._closers:
                with anyio.move_on_after(timeout):
                    for closer in reversed(self._closers):
                        await closer()
        finally:
            if self._tokens is not None:
                self._tokens.close()
            await self._supervisor.stop()
            await self._transport.close()
            self._state = "closed"

    async def request(
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
    ) -> Response:
        """Call any Nacos endpoint (path below the context path, e.g. ``/v1/ns/operator/metrics``)
        with the client's failover, retries and token handling."""
        if self._state not in ("running", "closing"):  # closers may still send while closing
            raise NacosClosedError(f"client is {self._state}; use `async with` or `await start()`")
        return await self._transport.request(
            method,
            path,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            resource=resource,
            accept=accept,
        )

    async def _token_refresh_step(self) -> float:
        assert self._tokens is not None
        if self._tokens.current is None and self._settings.lazy_login:
            return 1.0  # nothing to renew until the first use logs in
        return await self._tokens.refresh_step()

    async def _server_list_step(self) -> float:
        await self._refresh_server_list()
        return self._settings.endpoint_refresh_interval

    async def _refresh_server_list(self) -> None:
        settings = self._settings
        assert settings.endpoint is not None
        endpoint = parse_server_address(settings.endpoint, default_port=DEFAULT_ENDPOINT_PORT)
        url = endpoint.url(settings.context_path, "/serverlist")
        params = {"namespace": settings.namespace} if settings.namespace != "public" else None
        session = self._transport.session
        try:
            async with session.get(
                url, params=params, timeout=aiohttp.ClientTimeout(total=settings.request_timeout)
            ) as raw:
                body = await raw.text()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise NacosConnectionError(
                f"address server unreachable: {type(exc).__name__}", server=str(endpoint)
            ) from None
        if raw.status != 200:
            raise NacosServerError(
                "address server refused", server=str(endpoint), status=raw.status
            )
        try:
            servers = parse_server_list_body(body)
        except ValueError as exc:
            raise NacosServerError(f"address server sent a bad list: {exc}") from None
        self._transport.servers.replace(servers)
