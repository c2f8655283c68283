"""A read-to-the-end answer, and how Nacos error bodies map to typed errors."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Container, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosBadRequestError,
    NacosConflictError,
    NacosError,
    NacosNotFoundError,
    NacosProtocolError,
    NacosServerError,
)

if TYPE_CHECKING:
    from nacos_async.servers import ServerAddress
    from nacos_async.signing import Resource

T = TypeVar("T")
_MESSAGE_LIMIT = 500
_HTML_DIV = re.compile(r"<div>(.*?)</div>", re.S | re.I)
_UNAVAILABLE_STATUSES = frozenset({405, 410, 501})
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_EMPTY: Mapping[str, str] = {}
_LOGIN_REFUSALS = (
    "no message available",
    "handle api compatibility failed",
    "user not found",
    "unknown user",
)


class Send(Protocol):
    """Sends one logical request and returns its answer (``Sender.request``), or what ``read``
    makes of it: read inside the sending coroutine, a hot call awaits one coroutine less."""

    @overload
    def __call__(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = ...,
        data: Mapping[str, str] | None = ...,
        headers: Mapping[str, str] | None = ...,
        auth: bool = ...,
        timeout: float | None = ...,
        resource: Resource | None = ...,
        accept: Container[int] = ...,
        server: ServerAddress | None = ...,
        read: None = ...,
    ) -> Awaitable[Response]: ...

    @overload
    def __call__(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = ...,
        data: Mapping[str, str] | None = ...,
        headers: Mapping[str, str] | None = ...,
        auth: bool = ...,
        timeout: float | None = ...,
        resource: Resource | None = ...,
        accept: Container[int] = ...,
        server: ServerAddress | None = ...,
        read: Callable[[Response], T],
    ) -> Awaitable[T]: ...


class Response:
    """A complete answer: status, headers and body bytes, and where it came from."""

    __slots__ = ("body", "headers", "method", "path", "server", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str] = _EMPTY,
        method: str = "GET",
        path: str = "",
        server: str = "",
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        self.method = method
        self.path = path
        self.server = server

    def __repr__(self) -> str:
        return f"Response({self.method} {self.path} -> {self.status}, {len(self.body)} bytes)"

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise self.protocol_error("answer is not valid UTF-8") from None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            # the body is not quoted: a truncated login answer would show part of the token
            raise self.protocol_error(f"answer is not JSON ({len(self.body)} bytes)") from None

    def json_object(self, what: str = "answer") -> dict[str, Any]:
        """The body as a JSON object; a ``NacosProtocolError`` naming ``what`` otherwise."""
        body = self.json()
        if not isinstance(body, dict):
            raise self.protocol_error(f"{what} is not a JSON object: {type(body).__name__}")
        return body

    def protocol_error(self, message: str) -> NacosProtocolError:
        return NacosProtocolError(
            message, method=self.method, path=self.path, server=self.server, status=self.status
        )

    @property
    def message(self) -> str:
        """The server's own words: Spring's ``message``, a Nacos ``Result``'s, or the text."""
        return extract_message(self.body)

    @property
    def nacos_code(self) -> int | None:
        """The ``code`` of a Nacos ``Result`` body (``{"code","message","data"}``), if any."""
        parsed = _parse_json_object(self.body)
        code = parsed.get("code") if parsed else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    @property
    def retryable(self) -> bool:
        """A server fault worth another attempt (on this server or the next)."""
        return self.status in _RETRY_STATUSES and not self._refused_login()

    def error(self, message: str | None = None) -> NacosError:
        """The typed error for this (non-success) answer."""
        status = self.status
        if status == 400:
            cls: type[NacosError] = NacosBadRequestError
        elif status in (401, 403) or self._refused_login():
            cls = NacosAuthError
        elif status == 404:
            cls = NacosApiUnavailableError if self.is_api_missing() else NacosNotFoundError
        elif status in _UNAVAILABLE_STATUSES:
            cls = NacosApiUnavailableError
        elif status == 409:
            cls = NacosConflictError
        else:
            cls = NacosServerError
        return cls(
            message or f"request failed ({_reason(cls)})",
            method=self.method,
            path=self.path,
            server=self.server,
            status=status,
            server_message=self.message or None,
            code=self.nacos_code,
        )

    def is_api_missing(self) -> bool:
        """True when the server does not serve this path at all (as opposed to a missing item).

        Nacos answers a missing config or instance with its own text or ``Result`` JSON; a path
        the server lacks gets the framework's error JSON (``{"status","error","path"}``) or page.
        """
        if self.status in _UNAVAILABLE_STATUSES:
            return True
        if self.status != 404:
            return False
        parsed = _parse_json_object(self.body)
        if parsed is not None:
            return "code" not in parsed and "error" in parsed and "status" in parsed
        return self.body.lstrip()[:1] == b"<"

    def _refused_login(self) -> bool:
        """A refused login, not a server fault: Nacos 3.x's server port renders a wrong password
        as a Spring 500 (its ``AccessException`` has no message, so Spring says "No message
        available", and the v1 compatibility filter "Handle API Compatibility failed")."""
        if self.status != 500 or not self.path.endswith("/login"):
            return False
        lowered = self.message.lower()
        return any(marker in lowered for marker in _LOGIN_REFUSALS)


def extract_message(body: bytes) -> str:
    """Best-effort human message from an error body, trimmed to a sane length."""
    parsed = _parse_json_object(body)
    if parsed is not None:
        for key in ("message", "data", "error"):
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return _trim(value)
        return _trim(json.dumps(parsed, ensure_ascii=False))
    text = body[: _MESSAGE_LIMIT * 8].decode("utf-8", errors="replace")
    match = _HTML_DIV.findall(text)
    if match and text.lstrip().startswith("<"):
        return _trim(" ".join(m.strip() for m in match if m.strip()))
    return _trim(text.strip())


def _parse_json_object(body: bytes) -> dict[str, Any] | None:
    stripped = body.strip()
    if not stripped.startswith(b"{"):
        return None
    try:
        parsed = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _trim(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[:_MESSAGE_LIMIT] + "..."


def _reason(cls: type[NacosError]) -> str:
    return {
        NacosBadRequestError: "bad request",
        NacosAuthError: "refused",
        NacosNotFoundError: "not found",
        NacosApiUnavailableError: "API not served by this server",
        NacosConflictError: "conflict",
    }.get(cls, "server error")
