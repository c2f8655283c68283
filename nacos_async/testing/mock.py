"""``MockTransport``: a client whose network is a function, for fast tests (as httpx's).

    def handler(request: HttpRequest) -> Response:
        if request.path == "/v3/auth/user/login":
            return answer(json={"accessToken": "t", "tokenTtl": 18000})
        return answer(200, text="ok")

    client = NacosClient("nacos.test:8848", username="u", password="p",
                         transport=MockTransport(handler))

Everything above the network runs for real: servers and failover, retries, the deadline,
the token manager and the auth policy. The handler may be sync or async, may raise
``NacosConnectionError``/``NacosTimeoutError`` to act out a network failure, and sees every
attempt in ``transport.requests``.
"""

from __future__ import annotations

import inspect
import json as jsonlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from nacos_async.response import Response
from nacos_async.transport import HttpRequest

Handler = Callable[[HttpRequest], Response | Awaitable[Response]]

__all__ = ["HttpRequest", "MockTransport", "answer", "form_of"]


def answer(
    status: int = 200,
    *,
    json: Any = None,
    text: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An answer for a handler to return (the transport fills in method, path and server)."""
    body = jsonlib.dumps(json).encode() if json is not None else (text or "").encode()
    return Response(status, body, dict(headers or {}))


def form_of(request: HttpRequest) -> dict[str, str]:
    """The form fields of a request's urlencoded body."""
    return dict(parse_qsl(request.body.decode())) if request.body else {}


class MockTransport:
    """An ``HttpTransport`` that answers every request with ``handler(request)``."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[HttpRequest] = []
        self.opened = False
        self.closed = False

    async def open(self) -> None:
        self.opened = True

    async def close(self) -> None:
        self.closed = True

    async def send(self, request: HttpRequest) -> Response:
        self.requests.append(request)
        result = self._handler(request)
        if inspect.isawaitable(result):
            result = await result
        return Response(
            result.status, result.body, result.headers, request.method, request.path,
            request.server,
        )  # fmt: skip
