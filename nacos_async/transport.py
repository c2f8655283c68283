"""The one way requests leave the client: failover, retries, auth, signing, size limits.

- Servers: sticky on the current one; connection errors, timeouts and 5xx move to the next
  server and retry with backoff, up to ``max_attempts`` in all.
- Auth: the token is read right before sending, after a connection slot is held (the slot
  semaphore is the pool size, so aiohttp never queues a request holding a stale token). A
  token-type 403 is replayed once with a newer token; ``authorization failed!`` is not.
- Answers are read whole, up to ``max_response_bytes``, and turned into typed errors here.
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
from collections.abc import Container, Mapping
from dataclasses import dataclass

import aiohttp

from nacos_async.auth import Forbidden, classify_forbidden
from nacos_async.backoff import Backoff
from nacos_async.clock import Clock
from nacos_async.errors import (
    NacosAuthError,
    NacosClosedError,
    NacosConnectionError,
    NacosError,
    NacosPermissionError,
    NacosProtocolError,
    NacosTimeoutError,
)
from nacos_async.events import Events
from nacos_async.response import Response
from nacos_async.servers import ServerAddress, ServerList
from nacos_async.settings import NacosSettings
from nacos_async.signing import AccessKeySigner, Resource
from nacos_async.token import Token, TokenManager

RETRY_STATUSES = frozenset({500, 502, 503, 504})
_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"})
_TOKEN_IN_TEXT = re.compile(r"(accessToken=)[^&\s'\"]+", re.I)
_CHUNK = 64 * 1024

Params = Mapping[str, str]


@dataclass(frozen=True)
class _Call:
    """What one logical request sends, the same on every attempt."""

    method: str
    path: str
    params: Params | None
    data: Params | None
    headers: Params | None
    timeout: float
    resource: Resource | None


class Transport:
    """Sends requests for one client over one aiohttp session."""

    def __init__(
        self,
        settings: NacosSettings,
        servers: ServerList,
        *,
        clock: Clock,
        events: Events,
        session: aiohttp.ClientSession | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self.servers = servers
        self._clock = clock
        self._events = events
        self._session = session
        self._owns_session = session is None
        self._rng = rng or random.Random()
        self._backoff = Backoff(base=settings.retry_backoff, cap=max(settings.retry_backoff, 5.0))
        # fast_acquire: no scheduling round-trip when a slot is free (the common case)
        # asyncio's own semaphore: the slot is taken on every request, and anyio's costs
        # several times more per acquire (cancel-scope checks) for nothing we use here.
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._open = False
        self.tokens: TokenManager | None = None
        self.signer: AccessKeySigner | None = None

    async def open(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._settings.pool_size, limit_per_host=0, ssl=self._ssl_context()
            )
            self._session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
        self._open = True

    async def close(self) -> None:
        self._open = False
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or not self._open:
            raise NacosClosedError("client is closed (or was never started)")
        return self._session

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
    ) -> Response:
        """Send one logical request (with failover, retries and one replay after a 403).

        Returns the answer for 2xx and for any status in ``accept``; raises a typed
        ``NacosError`` otherwise.
        """
        method = method.upper()
        if method not in _METHODS:
            raise ValueError(f"unsupported HTTP method {method!r}")
        if not path.startswith("/"):
            raise ValueError(f"request path must start with '/': {path!r}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        session = self.session
        call = _Call(
            method, path, params, data, headers, timeout or self._settings.request_timeout, resource
        )
        tokens = self.tokens if auth else None
        attempt = 0
        replayed = False
        token: Token | None = None
        while True:
            server = self.servers.current()
            try:
                response, token = await self._attempt(session, server, call, tokens, token)
                failure: NacosError | None = None
            except (NacosConnectionError, NacosTimeoutError) as exc:
                failure = exc
            except _NoToken as exc:  # the login has its own failover and retries
                raise exc.error from None
            if failure is None and (
                response.status not in RETRY_STATUSES or response.status in accept
            ):
                if response.status == 403 and tokens is not None and token is not None:
                    if self._refused_for_good(response, replayed):
                        raise self._forbidden_error(response, replayed)
                    replayed = True
                    self._events.emit("replay", path=path, generation=token.generation)
                    token = await tokens.replace_rejected(token)
                    continue
                if 200 <= response.status < 300 or response.status in accept:
                    return response
                raise response.error()
            attempt += 1
            if self.servers.mark_failed(server):
                self._events.emit(
                    "failover", path=path, failed=str(server), to=str(self.servers.current())
                )
            if attempt >= self._settings.max_attempts:
                raise failure if failure is not None else response.error()
            reason = str(failure) if failure is not None else f"status {response.status}"
            self._events.emit("retry", path=path, attempt=attempt, reason=reason)
            await self._clock.sleep(self._backoff.delay(attempt, self._rng))

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        server: ServerAddress,
        call: _Call,
        tokens: TokenManager | None,
        token: Token | None,
    ) -> tuple[Response, Token | None]:
        """One send; the token is taken while a connection slot is held, never before."""
        while True:
            async with self._slots:
                if tokens is not None:
                    usable = tokens.usable()
                    # a replay brings its own fresh token; otherwise take the current one
                    token = token if token is not None and token is usable else usable
                if tokens is None or token is not None:
                    return await self._send(session, server, call, token), token
            assert tokens is not None
            try:
                token = await tokens.get()  # wait for the shared login without holding a slot
            except NacosError as exc:
                raise _NoToken(exc) from None

    async def _send(
        self,
        session: aiohttp.ClientSession,
        server: ServerAddress,
        call: _Call,
        token: Token | None,
    ) -> Response:
        method, path, data, timeout = call.method, call.path, call.data, call.timeout
        if not self._open:  # closed while this call waited for a slot, a token or a retry
            raise NacosClosedError(
                "client closed while the request was pending", method=method, path=path
            )
        query = dict(call.params or {})
        head = dict(call.headers or {})
        if token is not None:
            if self._settings.token_placement == "header":
                head["Authorization"] = f"Bearer {token.value}"
            else:
                query["accessToken"] = token.value
        if self.signer is not None and call.resource is not None:
            extra_headers, extra_params = self.signer.sign(call.resource, {**query, **(data or {})})
            head.update(extra_headers)
            query.update(extra_params)
        started = self._clock.now()
        try:
            async with session.request(
                method,
                server.url(self._settings.context_path, path),
                params=query or None,
                data=dict(data) if data is not None else None,
                headers=head,
                timeout=self._timeout(timeout),
                allow_redirects=False,
            ) as raw:
                body = await self._read_body(raw, method, path, server)
                if self._events.wants("request"):
                    self._events.emit(
                        "request",
                        method=method,
                        path=path,
                        server=str(server),
                        status=raw.status,
                        duration=self._clock.now() - started,
                    )
                else:
                    self._events.count("request")
                return Response(
                    status=raw.status,
                    body=body,
                    headers=raw.headers,
                    method=method,
                    path=path,
                    server=str(server),
                )
        except TimeoutError:
            raise NacosTimeoutError(
                f"no answer within {timeout:g}s", method=method, path=path, server=str(server)
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise NacosConnectionError(
                f"connection failed: {_redact(exc)}", method=method, path=path, server=str(server)
            ) from None

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        """One ClientTimeout per distinct value (a request builds none on the hot path)."""
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return timeout

    async def _read_body(
        self, raw: aiohttp.ClientResponse, method: str, path: str, server: ServerAddress
    ) -> bytes:
        limit = self._settings.max_response_bytes
        length = raw.content_length
        if length is not None and length > limit:
            raise NacosProtocolError(
                f"answer of {length} bytes exceeds max_response_bytes={limit}",
                method=method, path=path, server=str(server), status=raw.status,
            )  # fmt: skip
        if length is not None:  # known and within the limit: one read
            return await raw.read()
        body = bytearray()
        async for chunk in raw.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise NacosProtocolError(
                    f"answer exceeds max_response_bytes={limit}",
                    method=method, path=path, server=str(server), status=raw.status,
                )  # fmt: skip
        return bytes(body)

    def _refused_for_good(self, response: Response, replayed: bool) -> bool:
        return replayed or classify_forbidden(response.message) is Forbidden.PERMISSION

    def _forbidden_error(self, response: Response, replayed: bool) -> NacosAuthError:
        if classify_forbidden(response.message) is Forbidden.PERMISSION:
            self._events.emit("permission_error", path=response.path, message=response.message)
            return NacosPermissionError(
                "permission denied",
                method=response.method,
                path=response.path,
                server=response.server,
                status=response.status,
                server_message=response.message,
            )
        self._events.emit("auth_error", path=response.path, message=response.message)
        return NacosAuthError(
            "refused again after logging in anew" if replayed else "refused",
            method=response.method,
            path=response.path,
            server=response.server,
            status=response.status,
            server_message=response.message,
        )

    def _ssl_context(self) -> ssl.SSLContext | bool:
        settings = self._settings
        if not settings.tls_verify:
            return False
        context = ssl.create_default_context(cafile=settings.ca_file)
        if settings.client_cert is not None:
            context.load_cert_chain(settings.client_cert, settings.client_key)
        return context


class _NoToken(Exception):
    """No token could be had: not a fault of the server this attempt was meant for."""

    def __init__(self, error: NacosError) -> None:
        super().__init__(str(error))
        self.error = error


def _redact(exc: BaseException) -> str:
    """An exception's text with any ``accessToken=...`` value removed."""
    return _TOKEN_IN_TEXT.sub(r"\1***", f"{type(exc).__name__}: {exc}")
