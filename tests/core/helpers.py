"""Helpers for core tests: a scripted Nacos behind ``MockTransport``, and a client wired to it."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from nacos_async import NacosClient
from nacos_async.response import Response
from nacos_async.testing import HttpRequest, MockTransport, answer

LOGIN = "/v3/auth/user/login"
LOGIN_V1 = "/v1/auth/users/login"
METRICS = "/v1/ns/operator/metrics"

Route = Callable[[HttpRequest], Response | Awaitable[Response]]


def login_body(token: str = "tok-1", ttl: float = 18000, **extra: Any) -> dict[str, Any]:
    return {"accessToken": token, "tokenTtl": ttl, "globalAdmin": True, **extra}


def spring_error(status: int, message: str, path: str = "/nacos/v1/cs/configs") -> str:
    error = {403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone"}
    return json.dumps(
        {
            "timestamp": "2025-05-21T08:10:14.284+00:00",
            "status": status,
            "error": error.get(status, "Error"),
            "message": message,
            "path": path,
        }
    )


def forbidden(message: str, status: int = 403) -> Response:
    return answer(status, text=spring_error(status, message))


def token_of(request: HttpRequest) -> str | None:
    """The token a request carries (Bearer header or accessToken parameter)."""
    header = (request.headers or {}).get("Authorization")
    if header:
        return header.removeprefix("Bearer ")
    return (request.params or {}).get("accessToken")


def form_of(request: HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode())) if request.body else {}


class FakeNacos:
    """Logins issue ``tok-N`` and make it the only valid token; routes answer the rest.

    ``refusal`` is the 403 message for a bad token; ``login_refusal`` (when set) refuses logins.
    """

    def __init__(self, ttl: float = 18000) -> None:
        self.ttl = ttl
        self.logins = 0
        self.valid: set[str] = set()
        self.seen: list[str | None] = []
        self.refusal = "token expired!"
        self.login_refusal: Response | None = None
        self.routes: dict[tuple[str, str], Route] = {
            ("GET", METRICS): lambda _: answer(json={"status": "UP"})
        }
        self.transport = MockTransport(self.handle)

    @property
    def requests(self) -> list[HttpRequest]:
        return self.transport.requests

    def expire_all(self) -> None:
        self.valid = set()

    def route(self, method: str, path: str, handler: Route) -> None:
        self.routes[(method, path)] = handler

    async def handle(self, request: HttpRequest) -> Response:
        if request.path in (LOGIN, LOGIN_V1):
            if self.login_refusal is not None:
                return self.login_refusal
            self.logins += 1
            token = f"tok-{self.logins}"
            self.valid = {token}
            return answer(json=login_body(token, self.ttl))
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return answer(404, text=spring_error(404, "No message available", request.path))
        sent = token_of(request)
        self.seen.append(sent)
        if sent is not None and sent not in self.valid:
            return forbidden(self.refusal)
        result = handler(request)
        if isinstance(result, Response):
            return result
        return await result


def make_client(fake: FakeNacos | None = None, **options: Any) -> NacosClient:
    options.setdefault("server_addr", "nacos.test:8848")
    options.setdefault("retry_backoff", 0.01)
    return NacosClient(transport=(fake or FakeNacos()).transport, rng=random.Random(0), **options)
