"""Exponential backoff with jitter: the one policy for every retry in the client.

Which layer retries what (nobody retries on top of a retry):
- the request sender retries one request against the servers (connection errors, timeouts,
  5xx), within the request's deadline;
- the gRPC channel retries one request against connections (after a lost connection, on a
  starting or overloaded server), within the request's deadline; its connection loop backs off
  between attempts to connect, and a request waiting for a connection asks for at most
  ``max_attempts`` of them;
- a background loop retries its own step (the supervisor backs off after a step that raised);
  a step that sends a request relies on the sender's retries and adds none of its own;
- the token manager keeps one retry schedule for logins, shared by its renewal loop and every
  caller (callers do not each retry a failed login).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``attempt`` (1-based): ``base * 2**(attempt-1)`` capped, then jittered.

    Jitter keeps many clients (or many coroutines) that failed together from retrying together.
    The delay is drawn from ``[delay * (1 - jitter), delay]`` so it never exceeds the cap.
    """

    base: float = 0.2
    cap: float = 30.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if not self.base > 0:
            raise ValueError(f"backoff base must be > 0, got {self.base!r}")
        if not self.cap >= self.base:
            raise ValueError(f"backoff cap must be >= base, got cap={self.cap!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"backoff jitter must be in [0, 1], got {self.jitter!r}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        exponent = min(max(attempt, 1) - 1, 64)
        ceiling = min(self.cap, self.base * (2.0**exponent))
        draw = (rng or random).random()
        return ceiling * (1.0 - self.jitter * draw)
