"""What one imitated Nacos node knows: settings, stores, users and tokens, counters, faults.

``NacosDevServer`` owns one ``DevState`` and hands it to the HTTP routes and to the gRPC side,
so that a config published, a token issued or a fault set through one shows through the other.
Sockets, tasks and restarts stay in the server; nothing here imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from aiohttp import web

from nacos_async.clock import Clock
from nacos_async.testing._auth import JwtCodec, UserStore, new_secret
from nacos_async.testing._config_store import ConfigStore
from nacos_async.testing._errors import (
    AuthFailure,
    Flavor,
    FlavorTraits,
    auth_message,
    flavor_traits,
    spring_error,
)
from nacos_async.testing._faults import Faults
from nacos_async.testing._naming_store import NamingStore
from nacos_async.testing._stats import DevServerStats


class DevState:
    """The state the request handlers of both protocols read and change.

    ``NacosDevServer`` shows these attributes and fault switches under the same names (and
    documents them); the ``/__dev__/`` control routes call the switches here.
    """

    def __init__(
        self,
        *,
        auth: bool,
        username: str,
        password: str,
        token_ttl: int,
        flavor: Flavor,
        secret_key: str | None,
        admin_auth: bool,
        identity_key: str | None,
        identity_value: str | None,
        clock: Clock,
        wall_time: Callable[[], float],
        data_dir: str | os.PathLike[str] | None,
        long_poll_min_hold: float,
        max_form_size: int,
        context_path: str,
    ) -> None:
        flavor_traits(flavor)  # a ValueError names an unknown flavor
        if token_ttl <= 0:
            raise ValueError(f"token_ttl must be positive: {token_ttl!r}")
        self.auth = auth
        self.admin_auth = admin_auth
        self.flavor: Flavor = flavor
        self.token_ttl = token_ttl
        self.identity_key = identity_key
        self.identity_value = identity_value
        self.long_poll_min_hold = long_poll_min_hold
        self.max_form_size = max_form_size
        self.context_path = "/" + context_path.strip("/") if context_path.strip("/") else ""
        self.clock = clock
        self._wall_time = wall_time
        self.clock_offset = 0.0
        self._username, self._password = username, password
        self.jwt = JwtCodec(secret_key or new_secret(), self.wall_time)
        self.users = UserStore()
        self.reset_users()
        self.configs = ConfigStore(data_dir, self.wall_time)
        self.naming = NamingStore(clock)
        self.stats = DevServerStats()
        self.faults = Faults()

    @property
    def traits(self) -> FlavorTraits:
        """What the imitated Nacos generation serves and how it answers."""
        return flavor_traits(self.flavor)

    # ----- time and tokens ---------------------------------------------------------------------
    def wall_time(self) -> float:
        """The server's epoch seconds: the injected wall clock plus ``clock_offset``."""
        return self._wall_time() + self.clock_offset

    def issue_token(self, username: str, ttl: int | None = None) -> tuple[str, int]:
        """A token for ``username`` and its ``exp`` (epoch seconds)."""
        exp = int(self.wall_time()) + (self.token_ttl if ttl is None else ttl)
        return self.jwt.sign(username, exp), exp

    # ----- users and the auth filters ---------------------------------------------------------
    def identify(self, token: str | None, username: str, password: str) -> str:
        """Who a request is (its token, else username/password), as both auth filters check
        it; ``AuthFailure`` says why not. Permissions are ``users.authorize``'s part."""
        if token:
            user, _ = self.jwt.verify(token)
            return user
        return self.users.check_password(username, password).name

    def refused(self, failure: AuthFailure) -> str:
        """The auth filter's 403 message for ``failure`` in the flavor's words, counted."""
        message = auth_message(self.flavor, failure.kind)
        self.stats.forbidden[message] += 1
        return message

    @property
    def admin_username(self) -> str:
        return self._username

    @property
    def admin_password(self) -> str:
        return self._password

    def reset_users(self) -> None:
        """Only the built-in admin user, as a fresh process starts."""
        self.users = UserStore()
        self.users.add(self._username, self._password, admin=True)

    def start_fresh(self) -> None:
        """What a restarted process has: configs from the data directory only, no instances,
        default users, no faults. The secret key survives (it is configuration)."""
        self.configs.load()
        self.naming.clear()
        self.reset_users()
        self.faults.clear()

    # ----- fault switches on the state (the server's own switches act on sockets) --------------
    def rotate_secret(self, secret_key: str | None = None) -> str:
        self.stats.faults["rotate_secret"] += 1
        return self.jwt.rotate(secret_key)

    def expire_tokens(self) -> None:
        self.stats.faults["expire_tokens"] += 1
        self.jwt.expire_all()

    def set_token_ttl(self, seconds: int) -> None:
        if seconds <= 0:
            raise ValueError(f"token TTL must be positive: {seconds!r}")
        self.token_ttl = seconds

    def skew_clock(self, seconds: float) -> None:
        self.clock_offset += seconds

    def set_latency(self, seconds: float) -> None:
        self.faults.latency = max(0.0, seconds)

    def forget_instances(self) -> None:
        self.stats.faults["forget_instances"] += 1
        self.naming.clear()

    # ----- error answers -----------------------------------------------------------------------
    def spring_error(self, request: web.Request, status: int, message: str) -> web.Response:
        """Spring Boot's error body for ``request``, stamped with the server's wall time."""
        accept = request.headers.get("Accept", "")
        return spring_error(status, message, request.path, epoch=self.wall_time(), accept=accept)

    def not_found(self, request: web.Request) -> web.Response:
        """Spring's 404 for an unmapped path (the way clients detect an absent API)."""
        if not self.traits.v3:
            message = "No message available"
        else:
            rel = request.path[len(self.context_path) :].lstrip("/")
            message = f"No static resource {rel}."
        return self.spring_error(request, 404, message)
