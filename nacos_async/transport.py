"""Sending one HTTP request to one server: the seam between the client and the network.

``HttpTransport`` is what the request sender calls; ``AiohttpTransport`` is the real one (a
session, TLS, proxies, bounded reading); ``nacos_async.testing.MockTransport`` answers from a
function, for fast tests of everything above the network (as httpx's ``MockTransport``).
A transport maps every network failure to ``NacosConnectionError`` or ``NacosTimeoutError``
and reads answers whole, never more than ``max_response_bytes`` after decompression.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import aiohttp

from nacos_async.errors import NacosConnectionError, NacosProtocolError, NacosTimeoutError
from nacos_async.response import Response

if TYPE_CHECKING:
    from nacos_async.settings import NacosSettings

_TOKEN_IN_TEXT = re.compile(r"(accessToken=)[^&\s'\"]+", re.I)
_CHUNK = 64 * 1024


class HttpRequest:
    """One attempt as it goes on the wire (the token, when any, already in place).

    ``params`` and ``headers`` may be shared with other requests (the caller's parameters, one
    header mapping per token): a transport reads them and never changes them.
    """

    __slots__ = ("body", "headers", "method", "params", "path", "server", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        path: str,
        server: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.method = method
        self.url = url
        self.path = path  # below the context path, for errors and events
        self.server = server
        self.params = params
        self.headers = headers
        self.body = body
        self.timeout = timeout

    def __repr__(self) -> str:  # no params or headers: they may hold the token
        return f"HttpRequest({self.method} {self.path} on {self.server})"


class HttpTransport(Protocol):
    """Sends one request and returns its complete answer (any status)."""

    async def open(self) -> None: ...

    async def send(self, request: HttpRequest) -> Response: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """The network, through one aiohttp session (created in ``open``, or the caller's own)."""

    def __init__(
        self, settings: NacosSettings, *, session: aiohttp.ClientSession | None = None
    ) -> None:
        self._settings = settings
        self._session = session
        self._owns_session = session is None
        self._ssl: ssl.SSLContext | bool | None = None  # built on the first https request
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def open(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._settings.pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, raise_for_status=False, trust_env=self._settings.trust_env
            )

    async def close(self) -> None:
        session, self._session = self._session, None
        if self._owns_session and session is not None:
            await session.close()

    def abandon(self) -> None:
        """Forget the session without closing it (in a forked child: it is the parent's)."""
        self._session = None

    async def send(self, request: HttpRequest) -> Response:
        session = self._session
        if session is None:
            raise NacosConnectionError("transport is closed", path=request.path)
        url = request.url
        timeout = self._timeouts.get(request.timeout) or self._timeout(request.timeout)
        try:
            if url.startswith("https:"):
                call = session.request(
                    request.method, url, params=request.params, data=request.body,
                    headers=request.headers, timeout=timeout, allow_redirects=False,
                    ssl=self._ssl_context(),
                )  # fmt: skip
            else:  # no ssl argument for plain servers: aiohttp does less for each request
                call = session.request(
                    request.method, url, params=request.params, data=request.body,
                    headers=request.headers, timeout=timeout, allow_redirects=False,
                )  # fmt: skip
            async with call as raw:
                length = raw.content_length
                if (
                    length is not None
                    and length <= self._settings.max_response_bytes
                    and "Content-Encoding" not in raw.headers
                ):
                    body = await raw.read()  # known and within the limit: one read
                else:
                    body = await self._read_body(raw, request)
                return Response(
                    raw.status, body, raw.headers, request.method, request.path, request.server
                )
        except TimeoutError:
            raise NacosTimeoutError(
                f"no answer within {request.timeout:.3g}s",
                method=request.method, path=request.path, server=request.server,
            ) from None  # fmt: skip
        except (aiohttp.ClientError, OSError) as exc:
            raise NacosConnectionError(
                f"connection failed: {_redact(exc)}",
                method=request.method, path=request.path, server=request.server,
            ) from None  # fmt: skip

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        """One ClientTimeout per distinct value (a request builds none on the hot path)."""
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            if len(self._timeouts) > 64:  # remaining-budget values of retries: do not grow
                self._timeouts.clear()
            timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return timeout

    def _ssl_context(self) -> ssl.SSLContext | bool:
        """Built on the first https request: none for plain servers (one costs ~40 ms)."""
        if self._ssl is None:
            settings = self._settings
            if not settings.tls_verify:
                self._ssl = False
            else:
                context = ssl.create_default_context(cafile=settings.ca_file)
                if settings.client_cert is not None:
                    context.load_cert_chain(settings.client_cert, settings.client_key)
                self._ssl = context
        return self._ssl

    async def _read_body(self, raw: aiohttp.ClientResponse, request: HttpRequest) -> bytes:
        """The whole body, refusing more than ``max_response_bytes`` of it as decoded: a small
        gzip answer may inflate to gigabytes, so compressed bodies are counted as they inflate."""
        limit = self._settings.max_response_bytes
        length = raw.content_length
        compressed = "Content-Encoding" in raw.headers
        if length is not None and length > limit:
            raise self._too_large(raw, request, f"answer of {length} bytes exceeds")
        if length is not None and not compressed:  # known and within the limit: one read
            return await raw.read()
        body = bytearray()
        async for chunk in raw.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise self._too_large(raw, request, "answer exceeds")
        return bytes(body)

    def _too_large(
        self, raw: aiohttp.ClientResponse, request: HttpRequest, what: str
    ) -> NacosProtocolError:
        raw.close()  # do not drain the rest: drop the connection
        return NacosProtocolError(
            f"{what} max_response_bytes={self._settings.max_response_bytes}",
            method=request.method, path=request.path, server=request.server, status=raw.status,
        )  # fmt: skip


def _redact(exc: BaseException) -> str:
    """An exception's text with any ``accessToken=...`` value removed."""
    return _TOKEN_IN_TEXT.sub(r"\1***", f"{type(exc).__name__}: {exc}")
