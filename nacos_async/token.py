"""The token manager: one shared token, renewed on a schedule from the server's TTL.

- A token is stamped with the monotonic time the login was *sent* and a generation number.
- Background renewal at ``stamp + ttl - window`` (window drawn in [ttl/15, ttl/10]); callers keep
  using the current token meanwhile (the advisory window).
- Inside a short mandatory margin before expiry, callers stop sending it and wait for the
  renewal, so that no token expires in flight.
- Every login is single-flight: N waiters cause one login, which runs in the client's task group,
  so cancelling a waiter never cancels it.
- A token refused with a token-type 403 is replaced once: by a newer generation if one exists,
  else by one shared login. A token refused within ``relogin_min_interval`` of its login is
  replaced only once that interval has passed, so a server that refuses every token cannot
  cause a login storm.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import anyio

from nacos_async.auth import LoginResult
from nacos_async.backoff import Backoff
from nacos_async.clock import Clock
from nacos_async.errors import NacosAuthError, NacosClosedError, NacosError
from nacos_async.events import Events

LoginFn = Callable[[], Awaitable[LoginResult]]
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]

MANDATORY_MARGIN_MAX = 5.0
MANDATORY_MARGIN_RATIO = 0.02


@dataclass(frozen=True)
class Token:
    """An access token and its schedule, all on the client's monotonic clock."""

    value: str = field(repr=False)
    generation: int
    ttl: float
    issued_at: float
    refresh_at: float
    usable_until: float
    expires_at: float

    @classmethod
    def from_login(
        cls, result: LoginResult, *, generation: int, issued_at: float, rng: random.Random
    ) -> Token:
        ttl = result.ttl
        window = rng.uniform(ttl / 15, ttl / 10)
        margin = min(MANDATORY_MARGIN_MAX, ttl * MANDATORY_MARGIN_RATIO)
        return cls(
            value=result.access_token,
            generation=generation,
            ttl=ttl,
            issued_at=issued_at,
            refresh_at=issued_at + ttl - window,
            usable_until=issued_at + ttl - margin,
            expires_at=issued_at + ttl,
        )


class _Flight:
    """One login in progress; every waiter reads its outcome."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None


class TokenManager:
    """Owns the token of one client; see the module docstring for the rules."""

    def __init__(
        self,
        login: LoginFn,
        *,
        clock: Clock,
        events: Events,
        spawn: Spawn,
        rng: random.Random | None = None,
        relogin_min_interval: float = 1.0,
        failure_backoff: Backoff | None = None,
    ) -> None:
        self._login = login
        self._clock = clock
        self._events = events
        self._spawn = spawn
        self._rng = rng or random.Random()
        self._relogin_min_interval = relogin_min_interval
        self._failure_backoff = failure_backoff or Backoff(base=0.5, cap=30.0)
        self._token: Token | None = None
        self._generation = 0
        self._rejected_generation = 0
        self._flight: _Flight | None = None
        self._consecutive_failures = 0
        self._last_error: NacosError | None = None
        self._retry_not_before = float("-inf")
        self._closed = False

    def __repr__(self) -> str:
        return f"TokenManager(token={self._token!r}, failures={self._consecutive_failures})"

    @property
    def current(self) -> Token | None:
        """The latest token, usable or not."""
        return self._token

    def usable(self) -> Token | None:
        """The token if callers may send it now (fresh, not refused, outside the margin)."""
        token = self._token
        if (
            token is not None
            and token.generation > self._rejected_generation
            and self._clock.now() < token.usable_until
        ):
            return token
        return None

    async def get(self) -> Token:
        """A usable token, waiting for the shared login when there is none."""
        token = self.usable()
        if token is not None:
            return token
        # After repeated failures, fail fast until the backoff passes (no login per request);
        # a single failure (say, one failed renewal) never blocks a caller.
        if (
            self._flight is None
            and self._consecutive_failures >= 2
            and self._clock.now() < self._retry_not_before
        ):
            assert self._last_error is not None
            raise _fresh(self._last_error)
        current = self._token
        if current is None:
            reason = "initial"
        elif current.generation <= self._rejected_generation:
            reason = "forced"  # refused by the server: same as a replay's login
        else:
            reason = "expired"
        return await self._join_login(reason)

    async def replace_rejected(self, rejected: Token) -> Token:
        """A server refused ``rejected``: hand back a newer token, logging in at most once."""
        newer = self.usable()
        if newer is not None and newer.generation > rejected.generation:
            return newer
        self._rejected_generation = max(self._rejected_generation, rejected.generation)
        if self._flight is None:
            # A token refused right after it was issued means the server refuses fresh tokens:
            # space such logins out instead of storming the login endpoint.
            wait = rejected.issued_at + self._relogin_min_interval - self._clock.now()
            if wait > 0:
                await self._clock.sleep(wait)
                newer = self.usable()
                if newer is not None and newer.generation > rejected.generation:
                    return newer
        return await self._join_login("forced")

    async def refresh_step(self) -> float:
        """One turn of the background renewal loop; returns the seconds until the next turn.

        Raises on a failed login, so that the supervisor backs off; the old token stays.
        """
        token = self._token
        if token is None or self.usable() is None or self._clock.now() >= token.refresh_at:
            await self._join_login("refresh" if token is not None else "initial")
            token = self._token
            assert token is not None
        return max(0.0, token.refresh_at - self._clock.now())

    def close(self) -> None:
        """Fail waiters from now on; a login already in flight ends with the task group."""
        self._closed = True

    async def _join_login(self, reason: str) -> Token:
        if self._closed:
            raise NacosClosedError("client is closed")
        flight = self._flight
        if flight is None:
            flight = self._flight = _Flight()
            self._spawn(lambda: self._run_flight(flight, reason))
        await flight.done.wait()
        if flight.error is not None:
            raise _fresh(flight.error)
        assert flight.token is not None
        return flight.token

    async def _run_flight(self, flight: _Flight, reason: str) -> None:
        stamp = self._clock.now()
        try:
            result = await self._login()
        except Exception as exc:
            flight.error = exc
            self._consecutive_failures += 1
            if isinstance(exc, NacosError):
                self._last_error = exc
            else:  # never leave waiters with an untyped error
                flight.error = self._last_error = NacosAuthError(f"login failed: {exc!r}")
            self._retry_not_before = stamp + self._failure_backoff.delay(
                self._consecutive_failures, self._rng
            )
            self._events.emit(
                "login_failed", reason=reason, failures=self._consecutive_failures, error=str(exc)
            )
        else:
            self._generation += 1
            token = Token.from_login(
                result, generation=self._generation, issued_at=stamp, rng=self._rng
            )
            self._token = token
            self._consecutive_failures = 0
            self._retry_not_before = float("-inf")
            flight.token = token
            self._events.emit("login", reason=reason, generation=token.generation, ttl=token.ttl)
            if reason == "refresh":
                self._events.emit("refresh", generation=token.generation)
            elif reason == "forced":
                self._events.emit("forced_login", generation=token.generation)
        finally:
            if flight.token is None and flight.error is None:  # cancelled: the client closes
                flight.error = NacosClosedError("client closed during login")
            self._flight = None
            flight.done.set()


def _fresh(error: BaseException) -> BaseException:
    """A copy to raise in one more waiter, so tracebacks do not pile up on a shared object."""
    clone = copy.copy(error)
    clone.__traceback__ = None
    return clone
