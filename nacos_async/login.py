"""The Nacos login exchange: ``POST /v3/auth/user/login``, or ``/v1/auth/users/login`` on servers
without v3 (chosen by ``ApiVersions`` like every other call).

Credentials go in the form body, never an old token (a token on a login request wins over the
password on the server). Any TTL above zero is accepted; the token manager clamps its schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nacos_async.api_version import ApiVersions
from nacos_async.errors import NacosAuthError
from nacos_async.response import Response, Send

if TYPE_CHECKING:
    from pydantic import SecretStr

LOGIN_V3 = "/v3/auth/user/login"
LOGIN_V1 = "/v1/auth/users/login"


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A successful login: the token (kept out of reprs) and its server-reported TTL."""

    access_token: str = field(repr=False)
    ttl: float
    username: str | None = None
    global_admin: bool | None = None


class PasswordLogin:
    """Logs in with username and password."""

    def __init__(self, send: Send, api: ApiVersions, username: str, password: SecretStr) -> None:
        self._send = send
        self._api = api
        self._username = username
        self._password = password

    def __repr__(self) -> str:
        return f"PasswordLogin(username={self._username!r})"

    async def __call__(self) -> LoginResult:
        return await self._api.call(lambda: self._post(LOGIN_V3), lambda: self._post(LOGIN_V1))

    async def _post(self, path: str) -> LoginResult:
        form = {"username": self._username, "password": self._password.get_secret_value()}
        try:
            response = await self._send("POST", path, data=form, auth=False)
        except NacosAuthError as exc:  # 403 (2.x), or the 3.x server port's 500 "User not found"
            raise NacosAuthError(
                f"login refused for user {self._username!r}",
                method=exc.method,
                path=exc.path,
                server=exc.server,
                status=exc.status,
                server_message=exc.server_message,
            ) from None
        return parse_login_response(response)


def parse_login_response(response: Response) -> LoginResult:
    """Validate a 200 login answer; anything odd is a ``NacosProtocolError`` naming the value."""
    body = response.json_object("login answer")
    token = body.get("accessToken")
    if not isinstance(token, str) or not token.strip():
        raise response.protocol_error("login answer has no 'accessToken'")
    ttl = body.get("tokenTtl")
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise response.protocol_error(
            f"login answer has no numeric 'tokenTtl' (got {type(ttl).__name__})"
        )
    if not math.isfinite(ttl) or ttl <= 0:
        raise response.protocol_error(f"login answer has an unusable 'tokenTtl' of {ttl!r} seconds")
    username = body.get("username")
    admin = body.get("globalAdmin")
    return LoginResult(
        access_token=token,
        ttl=float(ttl),
        username=username if isinstance(username, str) else None,
        global_admin=admin if isinstance(admin, bool) else None,
    )
