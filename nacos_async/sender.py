"""The one way requests leave the client: servers, deadline, connection slots, failover, retries.

- Deadline: a request's whole wait (a connection slot, a token, every attempt and the pauses
  between them) is bounded by its timeout; the ``NacosTimeoutError`` says what it waited for.
- Servers: sticky on the current one; connection errors, timeouts and 5xx (but never a refused
  login) move to the next server and retry with backoff, up to ``max_attempts`` in all.
- Auth: the ``AuthPolicy``/``AuthFlow`` of ``auth.py`` give the token right before sending,
  after a slot is held (the slot semaphore is the pool size, so aiohttp never queues a request
  holding a stale token), and decide what a 401/403 means. This module only calls them; a
  request makes its ``AuthFlow`` only when it must wait for a login or meets a refusal.
- The answer comes from an ``HttpTransport`` (aiohttp, or a mock in tests).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Container, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload
from urllib.parse import urlencode

from nacos_async._binding import Binding
from nacos_async._slots import Slots
from nacos_async.auth import NO_CREDENTIALS, REFUSAL_STATUSES, AuthFlow, AuthPolicy, MakeError
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
from nacos_async.signing import Resource
from nacos_async.token import Token
from nacos_async.transport import HttpRequest, HttpTransport

if TYPE_CHECKING:
    from nacos_async.settings import NacosSettings

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"})
_FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}


Params = Mapping[str, str]
T = TypeVar("T")


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
        self._slots = Slots(settings.pool_size)
        self._context_path = settings.context_path
        # when a request without a form or headers of its own goes out with the caller's
        # parameters as they are: the token in a header, and nothing to sign for a resource
        self._in_header = auth.placement == "header"
        self._in_header_unsigned = self._in_header and auth.signer is None
        self._open = False

    async def open(self) -> None:
        await self._transport.open()
        self._open = True

    async def close(self) -> None:
        self._open = False
        await self._transport.close()

    @overload
    async def request(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        data: Params | None = None,
        headers: Params | None = None,
        auth: bool = True,
        timeout: float | None = None,
        resource: Resource | None = None,
        accept: Container[int] = (),
        server: ServerAddress | None = None,
        read: None = None,
    ) -> Response: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        data: Params | None = None,
        headers: Params | None = None,
        auth: bool = True,
        timeout: float | None = None,
        resource: Resource | None = None,
        accept: Container[int] = (),
        server: ServerAddress | None = None,
        *,
        read: Callable[[Response], T],
    ) -> T: ...

    async def request(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        data: Params | None = None,
        headers: Params | None = None,
        auth: bool = True,
        timeout: float | None = None,
        resource: Resource | None = None,
        accept: Container[int] = (),
        server: ServerAddress | None = None,
        read: Callable[[Response], Any] | None = None,
    ) -> Any:
        """Send one logical request: failover, retries, one replay after a token refusal.

        Arguments after ``path`` are meant to be given by keyword; the client passes them in
        order, which is cheaper on every request.

        Returns the answer for 2xx and for any status in ``accept`` (or ``read(answer)``, read
        in this coroutine: a caller that only reads the answer needs no coroutine of its own);
        raises a typed ``NacosError`` otherwise. ``server`` pins one server (no failover), e.g.
        an address server.

        One coroutine does it all on the way that almost every request takes (a free slot, a
        fresh token, one answer): every layer of awaiting costs CPU on each suspension.
        """
        if method not in _METHODS:
            method = _method(method)
        if path[:1] != "/":
            raise ValueError(f"request path must start with '/': {clip(path)}")
        if timeout is None:
            budget = self._settings.request_timeout
        elif timeout > 0:
            budget = timeout
        else:
            raise ValueError(f"timeout must be > 0 seconds, got {clip(timeout)}")
        if not self._open:
            raise NacosClosedError("client is closed (or was never started)")
        self._binding.check()
        clock = self._clock
        now = clock.now()  # read again after every wait: until then, it is still now
        deadline = now + budget
        policy = self._auth
        tokens = policy.tokens if auth else None
        logs_in = tokens is not None
        flow: AuthFlow | None = None  # made when needed: a wait for a login, or a refusal
        body = urlencode(data).encode() if data is not None else None
        # the common read: the caller's parameters as they are, one shared header mapping
        plain = (
            body is None
            and not headers
            and (self._in_header if resource is None else self._in_header_unsigned)
        )
        slots = self._slots
        events = self._events
        attempt = 0
        while True:
            target = server or self.servers.current()
            try:
                while True:  # a slot first, then the token: never a token read before the wait
                    if slots.free:
                        slots.free -= 1  # the common case: no call, no await
                    elif await within(clock, deadline, slots.take):
                        now = clock.now()
                    else:
                        raise NacosTimeoutError(
                            f"no free connection slot within {budget:g}s (pool_size="
                            f"{self._settings.pool_size})", method=method, path=path,
                        )  # fmt: skip
                    try:
                        if tokens is None:
                            token = None
                        elif flow is None:
                            token = policy.token_now(now)  # the fast path: no flow yet
                        else:
                            token = flow.token_now()
                        if token is not None or not logs_in:
                            if not self._open:  # closed while this call waited
                                raise NacosClosedError(
                                    "client closed while the request was pending",
                                    method=method, path=path,
                                )  # fmt: skip
                            remaining = deadline - now
                            if remaining <= 0:
                                raise NacosTimeoutError(
                                    f"no answer within {budget:g}s", method=method, path=path
                                )
                            # whole tenths, so that aiohttp's timeout objects are reused
                            if remaining < budget and remaining >= 1:
                                remaining = math.floor(remaining * 10) / 10
                            request = (
                                HttpRequest(  # positional: keywords cost a call more
                                    method,
                                    target.origin + self._context_path + path,
                                    path,
                                    target.label,
                                    params or None,
                                    None if token is None else policy.bearer_headers(token),
                                    None,
                                    remaining,
                                )
                                if plain
                                else self._build(
                                    target, method, path, params, data, body, headers, resource,
                                    token, remaining,
                                )
                            )  # fmt: skip
                            observed = events.wants("request")
                            started = now
                            response = await self._transport.send(request)
                            break
                    finally:
                        if slots.waiters:
                            slots.release()  # to the longest waiter
                        else:
                            slots.free += 1
                    if flow is None:
                        flow = policy.flow(path, deadline)
                    assert flow is not None
                    await flow.wait_for_token()  # the shared login, without holding a slot
                    now = clock.now()
                if observed:
                    self._record(request, response.status, clock.now() - started)
                else:
                    events.stats.requests += 1  # events.count("request"), one call less
            except (NacosConnectionError, NacosTimeoutError) as exc:
                failure: NacosError = exc
            else:
                status = response.status
                if token is not None and status in REFUSAL_STATUSES:
                    if flow is None:
                        flow = policy.flow(path, deadline, sent=token)
                    assert flow is not None
                    await flow.refused(response.message, _refusal_error(response))
                    now = clock.now()
                    continue  # replay
                if 200 <= status < 300 or status in accept:
                    return response if read is None else read(response)
                if status in REFUSAL_STATUSES and policy.tokens is None:
                    raise response.error(NO_CREDENTIALS)
                if not response.retryable:
                    raise response.error()
                failure = response.error()
            attempt += 1
            if server is None and self.servers.mark_failed(target):
                self._events.emit(
                    "failover", path=path, failed=str(target), to=str(self.servers.current())
                )
            pause = self._backoff.delay(attempt, self._rng)
            if attempt >= self._settings.max_attempts or clock.now() + pause >= deadline:
                raise failure
            self._events.emit("retry", path=path, attempt=attempt, reason=str(failure))
            await clock.sleep(pause)
            now = clock.now()

    def _build(
        self,
        server: ServerAddress,
        method: str,
        path: str,
        params: Params | None,
        data: Params | None,
        body: bytes | None,
        headers: Params | None,
        resource: Resource | None,
        token: Token | None,
        timeout: float,
    ) -> HttpRequest:
        """An attempt with a form, headers or a signature of its own, the token in place."""
        query = dict(params) if params else {}
        head = dict(headers) if headers else {}
        if body is not None:
            head.update(_FORM)
        if token is not None:
            self._auth.put_http(token, head, query)
        signer = self._auth.signer
        if signer is not None and resource is not None:
            extra_headers, extra_params = signer.sign(resource, {**query, **(data or {})})
            head.update(extra_headers)
            query.update(extra_params)
        return HttpRequest(
            method,
            server.origin + self._context_path + path,
            path=path,
            server=server.label,
            params=query or None,
            headers=head,
            body=body,
            timeout=timeout,
        )

    def _record(self, request: HttpRequest, status: int, duration: float) -> None:
        self._events.emit(
            "request",
            method=request.method,
            path=request.path,
            server=request.server,
            status=status,
            duration=duration,
        )


def _method(method: str) -> str:
    upper = method.upper() if isinstance(method, str) else method
    if upper not in _METHODS:
        raise ValueError(f"unsupported HTTP method {clip(method)}")
    return upper


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
