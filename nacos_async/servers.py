"""Server addresses: parsing ``"h1:p1,https://h2"``, and the sticky, failover-ordered list."""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from nacos_async.errors import clip

DEFAULT_PORT = 8848
DEFAULT_ENDPOINT_PORT = 8080
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$"
)


@dataclass(frozen=True)
class ServerAddress:
    """One Nacos server: scheme, host and port (the context path is the client's)."""

    scheme: str
    host: str
    port: int

    @cached_property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @cached_property
    def origin(self) -> str:
        """``scheme://host:port``, the start of every URL on this server."""
        return f"{self.scheme}://{self.netloc}"

    @cached_property
    def label(self) -> str:
        """How errors and events name the server (``str(server)``)."""
        return self.netloc if self.scheme == "http" else self.origin

    def url(self, context_path: str, path: str) -> str:
        return f"{self.origin}{context_path}{path}"

    def __str__(self) -> str:
        return self.label


def parse_server_address(text: str, *, default_port: int = DEFAULT_PORT) -> ServerAddress:
    """Parse ``host``, ``host:port`` or ``http(s)://host[:port]``; raise ValueError naming it.

    An address with credentials (``user:password@host``) is refused before anything else and
    never quoted, so the password cannot reach an error message.
    """
    entry = text.strip()
    if not entry:
        raise ValueError("empty server address")
    if "@" in entry:
        raise ValueError(
            "invalid server address: credentials in the address are not allowed "
            "(use username/password)"
        )
    raw = entry if "://" in entry else f"http://{entry}"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid server address {clip(entry)}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"invalid server address {clip(entry)}: scheme must be http or https")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"invalid server address {clip(entry)}: no path allowed (set context_path instead)"
        )
    host = parts.hostname or ""
    if not _is_host(host):
        raise ValueError(f"invalid server address {clip(entry)}: bad host {clip(host)}")
    if port == 0:
        raise ValueError(f"invalid server address {clip(entry)}: port must be 1-65535")
    return ServerAddress(parts.scheme, host, port if port is not None else default_port)


def parse_server_addresses(
    text: str, *, default_port: int = DEFAULT_PORT
) -> tuple[ServerAddress, ...]:
    """Parse a comma-separated list; duplicates are dropped, order is kept."""
    if not isinstance(text, str):
        raise ValueError(f"server addresses must be a string, got {type(text).__name__}")
    entries = text.split(",")
    if all(not e.strip() for e in entries):
        raise ValueError("no server address given")
    seen: dict[ServerAddress, None] = {}
    for position, entry in enumerate(entries, 1):
        if not entry.strip():
            raise ValueError(f"empty entry #{position} in the server address list")
        seen.setdefault(parse_server_address(entry, default_port=default_port))
    return tuple(seen)


def parse_server_list_body(body: str) -> tuple[ServerAddress, ...]:
    """Parse an address server's answer: one ``ip[:port]`` per line."""
    lines = [line.strip() for line in body.splitlines()]
    return tuple(dict.fromkeys(parse_server_address(line) for line in lines if line))


def _is_host(host: str) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(host))


class ServerList:
    """The servers of one client: sticky on the current one, moving on only when it fails.

    The start is random so that many clients spread over the cluster. ``mark_failed`` moves on
    only if the failed server is still the current one, so that N coroutines failing on the same
    server at once cause one step, not N.
    """

    def __init__(
        self, servers: Sequence[ServerAddress], *, rng: random.Random | None = None
    ) -> None:
        if not servers:
            raise ValueError("a server list needs at least one server")
        self._servers = list(servers)
        self._index = (rng or random.Random()).randrange(len(self._servers))

    def __len__(self) -> int:
        return len(self._servers)

    @property
    def servers(self) -> tuple[ServerAddress, ...]:
        return tuple(self._servers)

    def current(self) -> ServerAddress:
        return self._servers[self._index]

    def mark_failed(self, server: ServerAddress) -> bool:
        """Step to the next server if ``server`` is current; True when that moved the list."""
        if self._servers[self._index] != server or len(self._servers) == 1:
            return False
        self._index = (self._index + 1) % len(self._servers)
        return True

    def select(self, server: ServerAddress) -> bool:
        """Make ``server`` current if it is in the list (a server asked us to move there)."""
        if server not in self._servers:
            return False
        self._index = self._servers.index(server)
        return True

    def replace(self, servers: Sequence[ServerAddress]) -> None:
        """Install a new list (from an address server), staying on the current server if kept."""
        if not servers:
            return
        current = self.current()
        self._servers = list(servers)
        self._index = self._servers.index(current) if current in self._servers else 0
