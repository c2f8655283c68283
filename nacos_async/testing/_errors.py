"""Error bodies exactly as Nacos (and the Spring Boot underneath it) writes them.

Clients branch on these bodies (a Spring 404 means "API absent", a 403 message says whether to
log in again), so their shape matters as much as their status.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from html import escape
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web

Flavor = Literal["2.x", "3.1", "3.2"]
FLAVORS: tuple[Flavor, ...] = ("2.x", "3.1", "3.2")


class ApiError(Exception):
    """Raised by a handler or helper to answer with a prepared response."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(getattr(response, "status", 500))
        self.response = response


class AuthKind(Enum):
    """Why authentication or authorization failed (maps to a message per flavor)."""

    EXPIRED = "token expired!"
    SIGNATURE = "Invalid signature"
    INVALID = "token invalid!"
    ALGORITHM = "unsupported signature algorithm"
    USER = "user not found!"
    FORBIDDEN = "authorization failed!"


_V3_USER = "User not found! Please check user exist or password is right!"


class AuthFailure(Exception):
    """An authentication/authorization failure, before it is worded for a flavor."""

    def __init__(self, kind: AuthKind) -> None:
        super().__init__(kind.value)
        self.kind = kind


def auth_message(flavor: Flavor, kind: AuthKind) -> str:
    """The 403 ``message`` text: 2.2.1-2.5 plain wording, or 3.x ``AuthResult.format()``."""
    if flavor == "2.x":
        return kind.value
    if kind is AuthKind.FORBIDDEN:
        return f"Code: 403, Message: {kind.value}."
    text = _V3_USER if kind is AuthKind.USER else kind.value
    return f"Code: 401, Message: {text}."


def login_failure_message(flavor: Flavor, kind: AuthKind) -> str:
    """The message a failed login carries (no ``Code:`` wrapper: it is the exception text)."""
    if kind is AuthKind.USER and flavor != "2.x":
        return _V3_USER
    return kind.value


def timestamp(epoch: float) -> str:
    """Spring Boot's error timestamp, e.g. ``2025-05-21T08:10:14.284+00:00``."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def spring_error(
    status: int, message: str, path: str, *, epoch: float, accept: str = ""
) -> web.Response:
    """Spring Boot ``/error``: JSON for API clients, the Whitelabel page for browsers."""
    reason = HTTPStatus(status).phrase
    if "text/html" in accept:
        html = (
            "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit "
            "mapping for /error, so you are seeing this as a fallback.</p>"
            f"<div id='created'>{escape(timestamp(epoch))}</div>"
            f"<div>There was an unexpected error (type={escape(reason)}, status={status}).</div>"
            f"<div>{escape(message)}</div></body></html>"
        )
        return web.Response(status=status, text=html, content_type="text/html", charset="UTF-8")
    body = {
        "timestamp": timestamp(epoch),
        "status": status,
        "error": reason,
        "message": message,
        "path": path,
    }
    return json_response(body, status=status)


def json_response(body: Any, *, status: int = 200) -> web.Response:
    """Compact JSON (Jackson writes no spaces) with Spring's content type."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return web.Response(status=status, text=text, content_type="application/json")


def result(code: int, message: str, data: Any, *, status: int = 200) -> web.Response:
    """The v2/v3 ``Result`` envelope (Spring's mapper keeps ``"data":null``)."""
    return json_response({"code": code, "message": message, "data": data}, status=status)


def ok(data: Any) -> web.Response:
    """A successful v2/v3 ``Result``."""
    return result(0, "success", data)


def text(body: str, *, status: int = 200, content_type: str = "text/plain") -> web.Response:
    """A plain-text body, as Nacos' ``ResponseEntity<String>`` handlers write it."""
    return web.Response(status=status, text=body, content_type=content_type, charset="UTF-8")


# Error styles of the controllers behind the routes (who formats a bad request).
def config_v1_error(message: str, status: int = 400) -> ApiError:
    """``GlobalExceptionHandler`` of the config module: ``caused: <msg>;`` text."""
    return ApiError(text(f"caused: {message};", status=status))


def naming_v1_error(message: str, status: int = 400) -> ApiError:
    """``ResponseExceptionHandler`` of the naming module: the bare message."""
    return ApiError(text(message, status=status))


def nacos_api_error(code: int, message: str, data: Any, status: int = 400) -> ApiError:
    """``NacosApiExceptionHandler`` (``@NacosApi`` controllers): a ``Result`` with an error code."""
    return ApiError(result(code, message, data, status=status))


PARAMETER_MISSING = (10000, "parameter missing")
PARAMETER_VALIDATE_ERROR = (20002, "parameter validate error")
RESOURCE_NOT_FOUND = (20004, "resource not found")
RESOURCE_CONFLICT = (20005, "resource conflict")
INSTANCE_METADATA_ERROR = (21002, "instance metadata error")
INSTANCE_NOT_FOUND = (21003, "instance not found")
WEIGHT_ERROR = (21001, "weight error")
API_DEPRECATED = 40000
