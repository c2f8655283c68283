"""The typed error hierarchy: every failure a caller sees is a ``NacosError``.

Messages name the method, the path, the server, the status and the server's own message, and
never a secret: paths are given without their query string, and no header is quoted.
"""

from __future__ import annotations

from typing import Any

ECHO_LIMIT = 80
"""Longest part of a user's value an error message quotes (a 1 MB dataId stays out of logs)."""


def clip(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters, for quoting bad input in an error."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}...({len(text)} chars)"


class NacosError(Exception):
    """Base class of every error this library raises (besides ``ValueError`` for bad input)."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        server: str | None = None,
        status: int | None = None,
        server_message: str | None = None,
        code: int | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.server = server
        self.status = status
        self.server_message = server_message
        self.code = code
        super().__init__(self._format(message))

    def _format(self, message: str) -> str:
        parts = [message]
        where = " ".join(p for p in (self.method, self.path) if p)
        if where:
            parts.append(f"[{where}{' on ' + self.server if self.server else ''}]")
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.server_message:
            parts.append(f"server said: {self.server_message!r}")
        return ", ".join(parts)


class NacosAuthError(NacosError):
    """Login failed, or a request was still refused after one fresh token."""


class NacosPermissionError(NacosAuthError):
    """The token is valid but the user lacks permission (``authorization failed!``)."""


class NacosNotFoundError(NacosError):
    """The resource (config, service, instance) does not exist."""


class NacosConflictError(NacosError):
    """A compare-and-set publish lost: the server's MD5 differs from the expected one."""


class NacosBadRequestError(NacosError):
    """The server refused the request's parameters (HTTP 400)."""


class NacosConnectionError(NacosError):
    """No server could be reached."""


class NacosServiceUnavailableError(NacosConnectionError):
    """No instance of a service called by name (``ServiceSession``) could be reached."""


class NacosTimeoutError(NacosError):
    """The request (or waiting for a token) ran past its deadline."""


class NacosServerError(NacosError):
    """The server answered with an error status (5xx, or another status we do not expect)."""


class NacosApiUnavailableError(NacosServerError):
    """The server does not serve this API (404 from the framework, 405, 410, 501)."""


class NacosProtocolError(NacosError):
    """The server's answer could not be understood (bad JSON, missing fields, too large)."""


class NacosClosedError(NacosError):
    """The client was closed (or never started) and cannot send requests, or it is used where it
    cannot work: in a forked child, or on another event loop than the one it started on."""


class NacosConfigParseError(NacosError):
    """Config content that does not parse, or does not fit the model."""

    def __init__(self, message: str, *, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


__all__ = [
    "NacosApiUnavailableError",
    "NacosAuthError",
    "NacosBadRequestError",
    "NacosClosedError",
    "NacosConfigParseError",
    "NacosConflictError",
    "NacosConnectionError",
    "NacosError",
    "NacosNotFoundError",
    "NacosPermissionError",
    "NacosProtocolError",
    "NacosServerError",
    "NacosServiceUnavailableError",
    "NacosTimeoutError",
    "clip",
]
