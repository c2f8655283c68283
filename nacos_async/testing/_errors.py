"""Error bodies exactly as Nacos (and the Spring Boot underneath it) writes them.

Clients branch on these bodies (a Spring 404 means "API absent", a 403 message says whether to
log in again), so their shape matters as much as their status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from html import escape
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web

Flavor = Literal["2.x", "3.1", "3.2", "3.3"]


@dataclass(frozen=True)
class FlavorTraits:
    """What sets one imitated Nacos generation apart; every per-flavor rule reads these.

    - ``v3``: serves the ``/v3`` client, admin and login APIs (3.0+).
    - ``compat_gone``: ``@Compatibility`` ADMIN/CONSOLE APIs (v2, v1 admin) answer 410 (3.0-3.1).
    - ``v1_removed``: the v1/v2 APIs are gone but the v1 login and ``/v1/ns/operator/metrics``
      (3.2+); a removed ``/v1/ns/*`` path still meets the DistroFilter (501), others get 404.
    - ``client_auth_by_default``: what ``nacos.core.auth.enabled`` is when the operator leaves
      it unset (true from 3.3, alibaba/nacos#15357). Admin APIs of 3.x need a token regardless.
    """

    name: Flavor
    v3: bool
    compat_gone: bool
    v1_removed: bool
    client_auth_by_default: bool

    @property
    def message_style(self) -> Literal["2.x", "3.x"]:
        """2.2.1-2.5 plain 403 wording, or 3.x ``AuthResult.format()``."""
        return "3.x" if self.v3 else "2.x"


FLAVOR_TRAITS: dict[Flavor, FlavorTraits] = {
    t.name: t
    for t in (
        FlavorTraits("2.x", v3=False, compat_gone=False, v1_removed=False,
                     client_auth_by_default=False),
        FlavorTraits("3.1", v3=True, compat_gone=True, v1_removed=False,
                     client_auth_by_default=False),
        FlavorTraits("3.2", v3=True, compat_gone=False, v1_removed=True,
                     client_auth_by_default=False),
        FlavorTraits("3.3", v3=True, compat_gone=False, v1_removed=True,
                     client_auth_by_default=True),
    )
}  # fmt: skip
FLAVORS: tuple[Flavor, ...] = tuple(FLAVOR_TRAITS)


def flavor_traits(flavor: Flavor) -> FlavorTraits:
    """The traits of ``flavor``; a ``ValueError`` names an unknown one."""
    try:
        return FLAVOR_TRAITS[flavor]
    except KeyError:
        raise ValueError(f"flavor must be one of {FLAVORS}, not {flavor!r}") from None


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
    if flavor_traits(flavor).message_style == "2.x":
        return kind.value
    if kind is AuthKind.FORBIDDEN:
        return f"Code: 403, Message: {kind.value}."
    text = _V3_USER if kind is AuthKind.USER else kind.value
    return f"Code: 401, Message: {text}."


def login_failure_message(flavor: Flavor, kind: AuthKind) -> str:
    """Why a login failed: the ``AccessException`` text (what 2.x shows, what 3.x logs)."""
    if kind is AuthKind.USER and flavor_traits(flavor).message_style == "3.x":
        return _V3_USER
    return kind.value


# How the 3.x server port (8848) renders a refused login. The ``AccessException`` has no
# handler there (the login controllers are not ``@NacosApi``) and its ``getMessage()`` is null
# (``new AccessException(msg)`` only sets ``errMsg``). On ``/v1/*`` the ApiCompatibilityFilter
# catches the rethrown ServletException and calls ``sendError(500, <text below>)``; on the v3
# path Tomcat forwards to Spring's ``/error`` with an empty message, which Spring Boot turns
# into "No message available". Either way: a Spring 500 whose text never says why.
LOGIN_FAILED_V1_3X = "Handle API Compatibility failed, please see log for detail."
LOGIN_FAILED_V3_3X = "No message available"


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


class JsonText(str):
    """JSON already written (a list kept from the last time): put into a response as it is."""


def _holds_text(value: Any) -> bool:
    return isinstance(value, JsonText) or (
        isinstance(value, dict) and any(_holds_text(v) for v in value.values())
    )


def compact_json(value: Any) -> str:
    """Compact JSON (Jackson writes no spaces), with any ``JsonText`` in objects as it is."""
    if not _holds_text(value):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)  # one copy of a long list, not one per level


def _write(value: Any, parts: list[str]) -> None:
    if isinstance(value, JsonText):
        parts.append(value)
    elif isinstance(value, dict) and _holds_text(value):
        opening = "{"
        for key, item in value.items():
            parts += (opening, json.dumps(str(key), ensure_ascii=False), ":")
            _write(item, parts)
            opening = ","
        parts.append("}")  # never empty: it holds text
    else:
        parts.append(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def json_response(body: Any, *, status: int = 200) -> web.Response:
    """Compact JSON with Spring's content type."""
    return web.Response(status=status, text=compact_json(body), content_type="application/json")


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
INSTANCE_ERROR = (21004, "instance error")
SERVICE_ALREADY_EXIST = (21007, "service already exist")
SERVICE_NOT_EXIST = (21008, "service not exist")
WEIGHT_ERROR = (21001, "weight error")
SERVER_ERROR = (30000, "server error")
API_DEPRECATED = 40000
