"""A read-to-the-end HTTP answer, and how Nacos error bodies map to typed errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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

_MESSAGE_LIMIT = 500
_HTML_DIV = re.compile(r"<div>(.*?)</div>", re.S | re.I)
_UNAVAILABLE_STATUSES = frozenset({405, 410, 501})


@dataclass(frozen=True)
class Response:
    """A complete answer: status, headers and body bytes, and where it came from."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    path: str = ""
    server: str = ""

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise self.protocol_error("answer is not valid UTF-8") from None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            raise self.protocol_error(f"answer is not JSON: {_snippet(self.body)!r}") from None

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

    def error(self, message: str | None = None) -> NacosError:
        """The typed error for this (non-success) answer."""
        status = self.status
        if status == 400:
            cls: type[NacosError] = NacosBadRequestError
        elif status in (401, 403):
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


def extract_message(body: bytes) -> str:
    """Best-effort human message from an error body, trimmed to a sane length."""
    parsed = _parse_json_object(body)
    if parsed is not None:
        for key in ("message", "data", "error"):
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return _trim(value)
        return _trim(json.dumps(parsed, ensure_ascii=False))
    text = body.decode("utf-8", errors="replace")
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


def _snippet(body: bytes) -> str:
    return body[:80].decode("utf-8", errors="replace")


def _reason(cls: type[NacosError]) -> str:
    return {
        NacosBadRequestError: "bad request",
        NacosAuthError: "refused",
        NacosNotFoundError: "not found",
        NacosApiUnavailableError: "API not served by this server",
        NacosConflictError: "conflict",
    }.get(cls, "server error")
