"""What the dev server saw: cheap counters that tests assert on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DevServerStats:
    """Counters by key; ``reset()`` zeroes them between the phases of a test.

    - ``logins``: login requests by path (every attempt that reached the handler)
    - ``login_failures``: failed logins by message
    - ``forbidden``: 403 answers of the auth filter by message
    - ``requests``: requests by route (``"GET /v1/cs/configs"``; unknown paths as sent)
    - ``statuses``: answers by HTTP status (0 = connection dropped by a fault)
    - ``faults``: injected faults by kind
    - ``tokens_on_login``: login requests that carried a token (a client bug to catch)
    - ``grpc_requests``: gRPC messages received, by payload type (unary and stream)
    - ``grpc_errors``: gRPC answers that failed, by ``errorCode`` (301, 302, 403, ...)
    - ``grpc_connections``: Nacos gRPC connections ``opened`` (set up) and ``closed``
    - ``grpc_pushes``: server pushes ``sent``, ``acked``, ``unacked`` (no ack in time),
      ``retried``, ``gave_up`` and ``dropped`` (by the drop-pushes switch)
    """

    logins: Counter[str] = field(default_factory=Counter)
    login_failures: Counter[str] = field(default_factory=Counter)
    forbidden: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    tokens_on_login: int = 0
    grpc_requests: Counter[str] = field(default_factory=Counter)
    grpc_errors: Counter[int] = field(default_factory=Counter)
    grpc_connections: Counter[str] = field(default_factory=Counter)
    grpc_pushes: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        for counter in (
            self.logins,
            self.login_failures,
            self.forbidden,
            self.requests,
            self.statuses,
            self.faults,
            self.grpc_requests,
            self.grpc_errors,
            self.grpc_connections,
            self.grpc_pushes,
        ):
            counter.clear()
        self.tokens_on_login = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (for ``GET /__dev__/stats``)."""
        return {
            "logins": dict(self.logins),
            "login_failures": dict(self.login_failures),
            "forbidden": dict(self.forbidden),
            "requests": dict(self.requests),
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "faults": dict(self.faults),
            "tokens_on_login": self.tokens_on_login,
            "grpc_requests": dict(self.grpc_requests),
            "grpc_errors": {str(k): v for k, v in self.grpc_errors.items()},
            "grpc_connections": dict(self.grpc_connections),
            "grpc_pushes": dict(self.grpc_pushes),
        }
