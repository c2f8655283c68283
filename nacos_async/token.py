"""The token manager: one shared token, renewed on a schedule from the server's TTL.

- A token is stamped with the monotonic time the login was *sent* and a generation number.
- Background renewal at ``stamp + ttl - window`` (window drawn in [ttl/15, ttl/10]), and at least
  once a day however long the TTL; callers keep using the current token meanwhile (the advisory
  window). The renewal loop is woken whenever any login installs a token, so a shorter TTL
  reported by a forced login reschedules it at once.
- Inside a short mandatory margin before expiry, callers stop sending it and wait for the
  renewal, so that no token expires in flight.
- Every login is single-flight: N waiters cause one login, which runs as a supervised task, so
  cancelling a waiter never cancels it. A waiter waits at most until its own deadline.
- A failed login sets one retry schedule for everybody: exponential backoff with jitter, capped at
  ``LOGIN_RETRY_CAP`` seconds. The renewal loop probes on that schedule; callers arriving before
  the next attempt (after repeated failures) fail fast with the last error instead of storming
  the login endpoint, and never wait more than the cap for a fresh attempt.
- A token refused by the server is replaced once: by a newer generation if one exists, else by
  one shared login. Every forced login starts no sooner than ``relogin_min_interval`` after the
  refused token's login, so a server that refuses every fresh token cannot cause a login storm.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from nacos_async.background import LoopHandle, Supervisor
from nacos_async.backoff import Backoff
from nacos_async.clock import Clock, within
from nacos_async.errors import NacosAuthError, NacosClosedError, NacosError, NacosTimeoutError
from nacos_async.events import Events
from nacos_async.login import LoginResult

LoginFn = Callable[[], Awaitable[LoginResult]]

MANDATORY_MARGIN_MAX = 5.0
MANDATORY_MARGIN_RATIO = 0.02
MAX_RENEWAL_INTERVAL = 24 * 3600.0  # a token of any TTL is renewed at least daily
LOGIN_RETRY_CAP = 5.0  # a failed login is retried at least this often
_IDLE = 1.0  # how often an idle (lazy, never used) renewal loop looks again


@dataclass(frozen=True, slots=True)
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
            refresh_at=issued_at + min(ttl - window, MAX_RENEWAL_INTERVAL),
            usable_until=issued_at + ttl - margin,
            expires_at=issued_at + ttl,
        )


class _Flight:
    """One login in progress; every waiter reads its outcome."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
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
        supervisor: Supervisor,
        rng: random.Random | None = None,
        relogin_min_interval: float = 1.0,
        retry_backoff: Backoff | None = None,
    ) -> None:
        self._login = login
        self._clock = clock
        self._events = events
        self._supervisor = supervisor
        self._rng = rng or random.Random()
        self._relogin_min_interval = relogin_min_interval
        self._retry_backoff = retry_backoff or Backoff(base=0.5, cap=LOGIN_RETRY_CAP)
        self._token: Token | None = None
        self._generation = 0
        self._rejected_generation = 0
        self._flight: _Flight | None = None
        self._failures = 0
        self._last_error: NacosError | None = None
        self._next_attempt_at = -math.inf
        self._renewal: LoopHandle | None = None
        self._lazy = False
        self._closed = False

    def __repr__(self) -> str:
        return f"TokenManager(token={self._token!r}, failures={self._failures})"

    @property
    def current(self) -> Token | None:
        """The latest token, usable or not."""
        return self._token

    @property
    def failures(self) -> int:
        """Consecutive failed logins (0 once a login succeeds)."""
        return self._failures

    @property
    def last_error(self) -> NacosError | None:
        """Why the last login failed, while logins keep failing."""
        return self._last_error if self._failures else None

    def start(self, *, lazy: bool = False) -> None:
        """Run the background renewal (idle until first use when ``lazy``)."""
        self._lazy = lazy
        if self._renewal is None:
            self._renewal = self._supervisor.start_loop("token-refresh", self.refresh_step)

    def usable(self, now: float | None = None) -> Token | None:
        """The token if callers may send it now (fresh, not refused, outside the margin);
        ``now``: the clock's time when the caller already read it."""
        token = self._token
        if (
            token is not None
            and token.generation > self._rejected_generation
            and (self._clock.now() if now is None else now) < token.usable_until
        ):
            return token
        return None

    def newer_than(self, token: Token) -> Token | None:
        """A usable token of a later generation than ``token``, if another login made one."""
        newer = self.usable()
        return newer if newer is not None and newer.generation > token.generation else None

    def reject(self, token: Token) -> None:
        """The server refused ``token``: never hand it out again."""
        self._rejected_generation = max(self._rejected_generation, token.generation)

    async def get(self, deadline: float = math.inf) -> Token:
        """A usable token, waiting (until ``deadline`` on the clock) for the shared login."""
        token = self.usable()
        if token is not None:
            return token
        if (
            self._flight is None
            and self._failures >= 2  # one failure (a renewal, say) never blocks a caller
            and self._clock.now() < self._next_attempt_at
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
        return await self._join_login(reason, deadline)

    async def replace_rejected(self, rejected: Token, deadline: float = math.inf) -> Token:
        """A server refused ``rejected``: hand back a newer token, logging in at most once."""
        newer = self.newer_than(rejected)
        if newer is not None:
            return newer
        self.reject(rejected)
        return await self._join_login("forced", deadline)

    async def refresh_step(self) -> float:
        """One turn of the background renewal; returns the seconds until the next turn.

        Never raises: a failed login is reported, and the next turn comes on the retry schedule
        while the old token keeps serving as long as it is valid.
        """
        token = self._token
        now = self._clock.now()
        if token is None and self._lazy:
            return _IDLE  # nothing to renew until the first use logs in
        if self._flight is None and now < self._next_attempt_at:
            return self._next_attempt_at - now
        if token is None or self.usable() is None or now >= token.refresh_at:
            try:
                token = await self._join_login("refresh" if token is not None else "initial")
            except NacosError:
                return max(0.0, self._next_attempt_at - self._clock.now())
        return max(0.0, token.refresh_at - self._clock.now())

    def close(self) -> None:
        """Fail waiters from now on; a login already in flight ends with the supervisor."""
        self._closed = True

    async def _join_login(self, reason: str, deadline: float = math.inf) -> Token:
        if self._closed:
            raise NacosClosedError("client is closed")
        flight = self._flight
        if flight is None:
            flight = self._flight = _Flight(reason)
            self._supervisor.spawn(lambda: self._run_flight(flight), name="nacos-async-login")
        if not await within(self._clock, deadline, flight.done.wait):
            raise NacosTimeoutError(
                f"no token within the request's deadline: waited for a {flight.reason} login"
            )
        if flight.error is not None:
            raise _fresh(flight.error)
        assert flight.token is not None
        return flight.token

    async def _run_flight(self, flight: _Flight) -> None:
        try:
            if flight.reason == "forced" and self._token is not None:
                # a token refused right after it was issued means the server refuses fresh
                # tokens: space such logins out instead of storming the login endpoint
                wait = self._token.issued_at + self._relogin_min_interval - self._clock.now()
                if wait > 0:
                    await self._clock.sleep(wait)
            await self._attempt(flight)
        finally:
            if flight.token is None and flight.error is None:  # cancelled: the client closes
                flight.error = NacosClosedError("client closed during login")
            self._flight = None
            flight.done.set()

    async def _attempt(self, flight: _Flight) -> None:
        stamp = self._clock.now()
        try:
            result = await self._login()
        except Exception as exc:
            self._failures += 1
            # never leave waiters with an untyped error, nor quote its text: a codec error on
            # a password carries the password
            error = (
                exc
                if isinstance(exc, NacosError)
                else NacosAuthError(f"login failed: {type(exc).__name__}")
            )
            flight.error = self._last_error = error
            self._next_attempt_at = stamp + self._retry_backoff.delay(self._failures, self._rng)
            self._events.emit(
                "login_failed", reason=flight.reason, failures=self._failures, error=str(error)
            )
            return
        self._generation += 1
        token = Token.from_login(
            result, generation=self._generation, issued_at=stamp, rng=self._rng
        )
        self._token = flight.token = token
        self._failures = 0
        self._next_attempt_at = -math.inf
        self._events.emit("login", reason=flight.reason, generation=token.generation, ttl=token.ttl)
        if flight.reason == "refresh":
            self._events.emit("refresh", generation=token.generation)
        elif flight.reason == "forced":
            self._events.emit("forced_login", generation=token.generation)
        if self._renewal is not None:
            self._renewal.wake()  # reschedule the renewal from this token's TTL


def _fresh(error: BaseException) -> BaseException:
    """A copy to raise in one more waiter, so tracebacks do not pile up on a shared object."""
    clone = copy.copy(error)
    clone.__traceback__ = None
    return clone
