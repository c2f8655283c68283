"""The Nacos login exchange and the reading of 403 answers.

Login: ``POST /v3/auth/user/login`` then ``/v1/auth/users/login`` when the server lacks v3,
credentials in the form body, never an old token (a token on a login request wins over the
password on the server). 403 answers are either "this token is no good" (log in again, replay)
or "this user may not" (``authorization failed!``: no replay).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from nacos_async.errors import NacosApiUnavailableError, NacosAuthError, NacosServerError
from nacos_async.response import Response

LOGIN_V3 = "/v3/auth/user/login"
LOGIN_V1 = "/v1/auth/users/login"
MAX_TOKEN_TTL = 366 * 24 * 3600.0


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the token (kept out of reprs) and its server-reported TTL."""

    access_token: str = field(repr=False)
    ttl: float
    username: str | None = None
    global_admin: bool | None = None


class Forbidden(enum.Enum):
    """What a 403 means for the caller."""

    TOKEN = "token"  # expired, invalid, bad signature, unknown user: a fresh token may help
    PERMISSION = "permission"  # authorization failed: a fresh token will not help


_PERMISSION_MARKERS = ("authorization failed",)


def classify_forbidden(message: str) -> Forbidden:
    """Read a 403 message; anything unrecognised counts as a bad token (one replay is cheap)."""
    lowered = message.lower()
    if any(marker in lowered for marker in _PERMISSION_MARKERS):
        return Forbidden.PERMISSION
    return Forbidden.TOKEN


class PasswordLogin:
    """Logs in with username and password; remembers whether the server has the v3 path."""

    def __init__(
        self,
        request: Callable[..., Awaitable[Response]],
        username: str,
        password: SecretStr,
        *,
        api_version: Literal["auto", "v1", "v3"] = "auto",
    ) -> None:
        self._request = request
        self._username = username
        self._password = password
        self._paths: list[str] = [LOGIN_V1] if api_version == "v1" else [LOGIN_V3, LOGIN_V1]
        self._pinned = api_version != "auto"

    def __repr__(self) -> str:
        return f"PasswordLogin(username={self._username!r}, paths={self._paths!r})"

    async def __call__(self) -> LoginResult:
        form = {"username": self._username, "password": self._password.get_secret_value()}
        for index, path in enumerate(self._paths):
            try:
                response = await self._request("POST", path, data=form, auth=False)
            except NacosApiUnavailableError:
                if self._pinned or index == len(self._paths) - 1:
                    raise
                self._paths = self._paths[index + 1 :]  # remember: this server has no v3 login
                continue
            except (NacosAuthError, NacosServerError) as exc:
                # Nacos 3.x on port 8848 answers a wrong password with a 500, not a 403
                if not isinstance(exc, NacosAuthError) and not _says_bad_credentials(
                    exc.server_message
                ):
                    raise
                raise NacosAuthError(
                    f"login refused for user {self._username!r}",
                    method=exc.method,
                    path=exc.path,
                    server=exc.server,
                    status=exc.status,
                    server_message=exc.server_message,
                ) from None
            return parse_login_response(response)
        raise AssertionError("unreachable: the last login path raises or returns")


def _says_bad_credentials(message: str | None) -> bool:
    lowered = (message or "").lower()
    return "user not found" in lowered or "unknown user" in lowered


def parse_login_response(response: Response) -> LoginResult:
    """Validate a 200 login answer; anything odd is a ``NacosProtocolError`` naming the value."""
    body = response.json()
    if not isinstance(body, dict):
        raise response.protocol_error(f"login answer is not a JSON object: {type(body).__name__}")
    token = body.get("accessToken")
    if not isinstance(token, str) or not token.strip():
        raise response.protocol_error("login answer has no 'accessToken'")
    ttl = body.get("tokenTtl")
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise response.protocol_error(f"login answer has no numeric 'tokenTtl' (got {ttl!r})")
    if not math.isfinite(ttl) or ttl <= 0 or ttl > MAX_TOKEN_TTL:
        raise response.protocol_error(
            f"login answer has an unusable 'tokenTtl' of {ttl!r} seconds"
            f" (expected 0 < ttl <= {MAX_TOKEN_TTL:.0f})"
        )
    username = body.get("username")
    admin = body.get("globalAdmin")
    return LoginResult(
        access_token=token,
        ttl=float(ttl),
        username=username if isinstance(username, str) else None,
        global_admin=admin if isinstance(admin, bool) else None,
    )


__all__ = [
    "LOGIN_V1",
    "LOGIN_V3",
    "Forbidden",
    "LoginResult",
    "PasswordLogin",
    "classify_forbidden",
    "parse_login_response",
]
