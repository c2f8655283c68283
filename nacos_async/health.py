"""``client.health()``: one snapshot of what a readiness probe wants to know."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClientHealth:
    """The state of one client at one moment (times in seconds from now)."""

    state: str
    servers: list[str]
    current_server: str
    auth: bool
    transport: str | None = None  # "http" or "grpc" for config, chosen at start
    token_valid_for: float | None = None  # None: no token (auth off, or not logged in yet)
    login_failures: int = 0  # consecutive
    last_login_error: str | None = None
    background_crashes: list[str] = field(default_factory=list)
    failing_loops: dict[str, str] = field(default_factory=dict)  # loop name -> last error
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # config, naming, ...

    @property
    def ok(self) -> bool:
        """Running, holding a valid token when auth is on, and no background task dead."""
        has_token = not self.auth or bool(self.token_valid_for)
        problems = any(part.get("problems") for part in self.services.values())
        return (
            self.state == "running" and has_token and not self.background_crashes and not problems
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}
