"""Users, permissions and Nacos-style JWTs (``NacosJwtParser`` / ``NacosSignatureAlgorithm``).

The token format is byte-compatible with Nacos 2.2.1+: a fixed header string, a
``{"sub":..,"exp":..}`` payload, base64url without padding, HMAC keyed by the base64-decoded
secret. ``expire_all`` and ``rotate`` are fault switches a real server does not have.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from nacos_async.testing._errors import AuthFailure, AuthKind

_HEADERS = {
    "eyJhbGciOiJIUzI1NiJ9": "sha256",  # {"alg":"HS256"}
    "eyJhbGciOiJIUzM4NCJ9": "sha384",  # {"alg":"HS384"}
    "eyJhbGciOiJIUzUxMiJ9": "sha512",  # {"alg":"HS512"}
}
_HEADER_BY_DIGEST = {digest: header for header, digest in _HEADERS.items()}


def b64url(data: bytes) -> str:
    """base64url without padding (the JWT alphabet)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def bearer_token(authorization: str | None, access_token: str | None) -> str | None:
    """A request's token: ``Authorization: Bearer <token>`` wins over ``accessToken``."""
    bearer = authorization or ""
    return bearer[7:] if bearer.startswith("Bearer ") else access_token


def new_secret() -> str:
    """A fresh base64 secret of 32 bytes (the minimum Nacos accepts)."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """The HMAC key; Nacos refuses to start with a key under 32 bytes or not in base64."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the secret key must be encoded by base64") from exc
    if len(key) < 32:
        raise ValueError("the length of secret key must great than or equal 32 bytes")
    return key


class JwtCodec:
    """Signs and verifies tokens; remembers keys retired by ``expire_all``.

    ``expire_all`` swaps in a new internal key and keeps the old ones: a token signed by a
    retired key is answered "token expired!", one signed by an unknown key "Invalid signature".
    """

    def __init__(self, secret: str, wall_time: Callable[[], float]) -> None:
        self._wall_time = wall_time
        self.secret = secret
        self._key = decode_secret(secret)
        self._retired: list[bytes] = []

    @staticmethod
    def _digest(key: bytes) -> str:
        """``NacosJwtParser``: HS256 under 384 key bits, HS384 under 512, else HS512."""
        bits = len(key) * 8
        if bits < 384:
            return "sha256"
        return "sha384" if bits < 512 else "sha512"

    def sign(self, subject: str, exp: int) -> str:
        """A compact JWT for ``subject`` valid until epoch second ``exp``."""
        digest = self._digest(self._key)
        header = _HEADER_BY_DIGEST[digest]
        payload = b64url(json.dumps({"sub": subject, "exp": exp}, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode("ascii")
        signature = b64url(hmac.new(self._key, signing_input, digest).digest())
        return f"{header}.{payload}.{signature}"

    def verify(self, token: str) -> tuple[str, int]:
        """``(subject, exp)`` of a valid token, else ``AuthFailure`` with Nacos' reason."""
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthFailure(AuthKind.INVALID)
        header, payload, signature = parts
        digest = _HEADERS.get(header)
        if digest is None:
            raise AuthFailure(AuthKind.ALGORITHM)
        signing_input = f"{header}.{payload}".encode("ascii", "replace")

        def matches(key: bytes) -> bool:
            expected = b64url(hmac.new(key, signing_input, digest).digest())
            return hmac.compare_digest(expected, signature)

        retired = False
        if not matches(self._key):
            if not any(matches(key) for key in self._retired):
                raise AuthFailure(AuthKind.SIGNATURE)
            retired = True
        try:
            claims = json.loads(_b64url_decode(payload))
            subject = str(claims["sub"])
            exp = int(claims["exp"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise AuthFailure(AuthKind.INVALID) from exc
        if retired or exp < int(self._wall_time()):
            raise AuthFailure(AuthKind.EXPIRED)
        return subject, exp

    def rotate(self, secret: str | None = None) -> str:
        """Use a new secret; every token issued so far fails with "Invalid signature"."""
        self.secret = secret or new_secret()
        self._key = decode_secret(self.secret)
        self._retired.clear()
        return self.secret

    def expire_all(self) -> None:
        """Make every token issued so far "token expired!" (new logins get valid tokens)."""
        self._retired.append(self._key)
        self._key = secrets.token_bytes(len(self._key))


@dataclass
class User:
    """A user: admins pass every check, others need a matching permission."""

    name: str
    password: str
    admin: bool = False


@dataclass
class Permission:
    """A ``resource`` pattern (``ns:group:config/dataId``, ``*`` wildcards) and ``r``/``w``."""

    resource: str
    action: str = "rw"

    def allows(self, resource: str, action: str) -> bool:
        return action in self.action and fnmatch.fnmatchcase(resource, self.resource)


@dataclass
class UserStore:
    """Users and their permissions; a deleted user's permissions stay (as in Nacos)."""

    users: dict[str, User] = field(default_factory=dict)
    permissions: dict[str, list[Permission]] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)

    def add(
        self,
        name: str,
        password: str,
        *,
        admin: bool = False,
        permissions: list[tuple[str, str]] | None = None,
    ) -> None:
        self.users[name] = User(name, password, admin)
        if admin:
            self.admins.add(name)
        self.permissions[name] = [Permission(res, act) for res, act in permissions or []]

    def remove(self, name: str) -> None:
        """Delete the login only: issued tokens keep working with the old permissions."""
        self.users.pop(name, None)

    def check_password(self, name: str, password: str) -> User:
        user = self.users.get(name)
        if not name or not password or user is None:
            raise AuthFailure(AuthKind.USER)
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            raise AuthFailure(AuthKind.USER)
        return user

    def is_admin(self, name: str) -> bool:
        return name in self.admins

    def authorize(self, name: str, resource: str, action: str) -> None:
        """Raise "authorization failed!" unless ``name`` may ``action`` on ``resource``."""
        if name in self.admins:
            return
        if any(p.allows(resource, action) for p in self.permissions.get(name, [])):
            return
        raise AuthFailure(AuthKind.FORBIDDEN)
