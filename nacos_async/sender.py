"""The one way requests leave the client: servers, deadline, connection slots, failover, retries.

- Deadline: a request's whole wait (a connection slot, a token, every attempt and the pauses
  between them) is bounded by its timeout; the ``NacosTimeoutError`` says what it waited for.
- Servers: sticky on the current one; connection errors, timeouts and 5xx (but never a refused
  login) move to the next server and retry with backoff, up to ``max_attempts`` in all.
- Auth: the ``AuthFlow`` of ``auth.py`` gives the token right before sending, after a slot is
  held (the slot semaphore is the pool size, so aiohttp never queues a request holding a stale
  token), and decides what a 401/403 means. This module only calls it.
- The answer comes from an ``HttpTransport`` (aiohttp, or a mock in tests).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Container, Mapping
from urllib.parse import urlencode

from nacos_async._binding import Binding
from nacos_async.auth import REFUSAL_STATUSES, AuthFlow, AuthPolicy, MakeError
from nacos_async.backoff import Backoff
from nacos_async.clock import Clock, within
from nacos_async.errors import (
    NacosAuthError,
    NacosClosedError,
    NacosConnectionError,
    NacosError,
    NacosTimeoutError,
    clip,
)
from nacos_async.events import Events
from nacos_async.response import Response
from nacos_async.servers import ServerAddress, ServerList
from nacos_async.settings import NacosSettings
from nacos_async.signing import Resource
from nacos_async.transport import HttpRequest, HttpTransport

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"})
_FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
_NO_CREDENTIALS = (
    "refused: the server requires credentials; give username and password "
    "(NACOS_USERNAME / NACOS_PASSWORD)"
)

Params = Mapping[str, str]


class Sender:
    """Sends requests for one client through one ``HttpTransport``."""

    def __init__(
        self,
        settings: NacosSettings,
        servers: ServerList,
        transport: HttpTransport,
        auth: AuthPolicy,
        *,
        clock: Clock,
        events: Events,
        binding: Binding,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self.servers = servers
        self._transport = transport
        self._auth = auth
        self._clock = clock
        self._events = events
        self._binding = binding
        self._rng = rng or random.Random()
        self._backoff = Backoff(base=settings.retry_backoff, cap=max(settings.retry_backoff, 5.0))
        # asyncio's own semaphore: taken on every request, and anyio's costs several times more
        # per acquire (cancel-scope checks) for nothing we use here
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._open = False

    async def open(self) -> None:
        await self._transport.open()
        self._open = True

    async def close(self) -> None:
        self._open = False
        await self._transport.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        data: Params | None = None,
        headers: Params | None = None,
        auth: bool = True,
        timeout: float | None = None,
        resource: Resource | None = None,
        accept: Container[int] = (),
        server: ServerAddress | None = None,
    ) -> Response:
        """Send one logical request: failover, retries, one replay after a token refusal.

        Returns the answer for 2xx and for any status in ``accept``; raises a typed
        ``NacosError`` otherwise. ``server`` pins one server (no failover), e.g. an address
        server.
        """
        method = method.upper()
        if method not in _METHODS:
            raise ValueError(f"unsupported HTTP method {clip(method)}")
        if not path.startswith("/"):
            raise ValueError(f"request path must start with '/': {clip(path)}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {clip(timeout)}")
        if not self._open:
            raise NacosClosedError("client is closed (or was never started)")
        self._binding.check()
        call = _Call(method, path, params, data, headers, resource,
                     timeout or self._settings.request_timeout, self._clock.now())  # fmt: skip
        flow = self._auth.flow(path, call.deadline) if auth else None
        attempt = 0
        while True:
            target = server or self.servers.current()
            try:
                response = await self._attempt(target, call, flow)
            except (NacosConnectionError, NacosTimeoutError) as exc:
                failure: NacosError = exc
            else:
                status = response.status
                if flow is not None and status in REFUSAL_STATUSES and flow.sent is not None:
                    await flow.refused(response.message, _refusal_error(response))
                    continue  # replay
                if 200 <= status < 300 or status in accept:
                    return response
                if status in REFUSAL_STATUSES and flow is None and self._auth.tokens is None:
                    raise response.error(_NO_CREDENTIALS)
                if not response.retryable:
                    raise response.error()
                failure = response.error()
            attempt += 1
            if server is None and self.servers.mark_failed(target):
                self._events.emit(
                    "failover", path=path, failed=str(target), to=str(self.servers.current())
                )
            pause = self._backoff.delay(attempt, self._rng)
            if attempt >= self._settings.max_attempts or self._clock.now() + pause >= call.deadline:
                raise failure
            self._events.emit("retry", path=path, attempt=attempt, reason=str(failure))
            await self._clock.sleep(pause)

    async def _attempt(self, server: ServerAddress, call: _Call, flow: AuthFlow | None) -> Response:
        """One send; the token is taken while a connection slot is held, never before."""
        clock = self._clock
        while True:
            slots = self._slots
            if not slots.locked():
                await slots.acquire()
            elif not await within(clock, call.deadline, slots.acquire):
                raise NacosTimeoutError(
                    f"no free connection slot within {call.budget:g}s (pool_size="
                    f"{self._settings.pool_size})", method=call.method, path=call.path,
                )  # fmt: skip
            try:
                if flow is None or flow.token_now() is not None:
                    return await self._send(self._build(server, call, flow))
            finally:
                slots.release()
            assert flow is not None
            await flow.wait_for_token()  # wait for the shared login without holding a slot

    def _build(self, server: ServerAddress, call: _Call, flow: AuthFlow | None) -> HttpRequest:
        remaining = call.deadline - self._clock.now()
        if remaining <= 0:
            raise NacosTimeoutError(
                f"no answer within {call.budget:g}s", method=call.method, path=call.path
            )
        query = dict(call.params) if call.params else {}
        head = dict(call.headers) if call.headers else {}
        if call.body is not None:
            head.update(_FORM)
        if flow is not None and flow.sent is not None:
            self._auth.put_http(flow.sent, head, query)
        signer = self._auth.signer
        if signer is not None and call.resource is not None:
            extra_headers, extra_params = signer.sign(call.resource, {**query, **(call.data or {})})
            head.update(extra_headers)
            query.update(extra_params)
        return HttpRequest(
            call.method,
            server.url(self._settings.context_path, call.path),
            path=call.path,
            server=str(server),
            params=query or None,
            headers=head,
            body=call.body,
            # whole tenths, so that aiohttp's timeout objects can be reused across requests
            timeout=math.floor(remaining * 10) / 10 if remaining >= 1 else remaining,
        )

    async def _send(self, request: HttpRequest) -> Response:
        if not self._open:  # closed while this call waited for a slot, a token or a retry
            raise NacosClosedError(
                "client closed while the request was pending", method=request.method,
                path=request.path,
            )  # fmt: skip
        started = self._clock.now()
        response = await self._transport.send(request)
        events = self._events
        if events.wants("request"):
            events.emit(
                "request",
                method=request.method,
                path=request.path,
                server=request.server,
                status=response.status,
                duration=self._clock.now() - started,
            )
        else:
            events.count("request")
        return response


class _Call:
    """What one logical request sends, the same on every attempt."""

    __slots__ = ("body", "budget", "data", "deadline", "headers", "method", "params", "path",
                 "resource")  # fmt: skip

    def __init__(
        self,
        method: str,
        path: str,
        params: Params | None,
        data: Params | None,
        headers: Params | None,
        resource: Resource | None,
        budget: float,
        now: float,
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.data = data
        self.body = urlencode(data).encode() if data is not None else None
        self.headers = headers
        self.resource = resource
        self.budget = budget
        self.deadline = now + budget


def _refusal_error(response: Response) -> MakeError:
    """Builds the error a refusal of ``response`` ends in, of the class the auth flow picks."""

    def make(cls: type[NacosAuthError], message: str) -> NacosAuthError:
        return cls(
            message,
            method=response.method,
            path=response.path,
            server=response.server,
            status=response.status,
            server_message=response.message,
        )

    return make
