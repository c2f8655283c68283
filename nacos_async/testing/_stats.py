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
    """

    logins: Counter[str] = field(default_factory=Counter)
    login_failures: Counter[str] = field(default_factory=Counter)
    forbidden: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    tokens_on_login: int = 0

    def reset(self) -> None:
        for counter in (
            self.logins,
            self.login_failures,
            self.forbidden,
            self.requests,
            self.statuses,
            self.faults,
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
        }
