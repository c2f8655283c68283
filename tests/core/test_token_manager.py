"""TokenManager rules, driven by a fake clock and an in-memory login."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from nacos_async.background import Supervisor
from nacos_async.errors import NacosAuthError, NacosConnectionError
from nacos_async.events import Events
from nacos_async.login import LoginResult
from nacos_async.testing import FakeClock
from nacos_async.token import LOGIN_RETRY_CAP, MAX_RENEWAL_INTERVAL, TokenManager


class FakeLogin:
    """Counts logins; can be held open by a gate or made to fail."""

    def __init__(self, clock: FakeClock, ttl: float = 150.0) -> None:
        self.clock = clock
        self.ttl = ttl
        self.calls: list[float] = []
        self.gate: anyio.Event | None = None
        self.failing = False

    async def __call__(self) -> LoginResult:
        self.calls.append(self.clock.now())
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise NacosConnectionError("login server down")
        return LoginResult(access_token=f"tok-{len(self.calls)}", ttl=self.ttl)


@asynccontextmanager
async def running(
    login: FakeLogin, clock: FakeClock, **options: Any
) -> AsyncIterator[tuple[TokenManager, Events, Supervisor]]:
    events = Events()
    supervisor = Supervisor(clock=clock, events=events, rng=random.Random(7))
    supervisor.start()
    manager = TokenManager(
        login, clock=clock, events=events, supervisor=supervisor, rng=random.Random(3), **options
    )
    try:
        yield manager, events, supervisor
    finally:
        await supervisor.stop()


async def test_refresh_happens_inside_the_window_and_not_before() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=150.0)
    async with running(login, clock) as (manager, events, _):
        manager.start()
        await clock.settle()
        assert len(login.calls) == 1
        for lifetime in range(20):
            issued = login.calls[-1]
            token = manager.current
            assert token is not None
            # the window is drawn in [ttl/15, ttl/10] = [10, 15] seconds before expiry
            assert issued + 135.0 <= token.refresh_at <= issued + 140.0
            await clock.advance(token.refresh_at - clock.now() - 0.001)
            assert len(login.calls) == lifetime + 1, "refreshed before the window"
            await clock.advance(0.002)
            assert len(login.calls) == lifetime + 2, "no refresh inside the window"
        assert events.stats.proactive_refreshes == 20
        assert events.stats.logins == 21


async def test_failing_refresh_backs_off_keeps_valid_token_and_survives_1000_failures() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=150.0)
    async with running(login, clock) as (manager, events, supervisor):
        manager.start()
        await clock.settle()
        first = manager.current
        assert first is not None
        login.failing = True
        await clock.advance(first.refresh_at - clock.now())
        assert len(login.calls) == 2
        # still inside the token's life: callers keep the old token
        assert manager.usable() is first
        for _ in range(1000):
            await clock.advance_to_next(settle=5)
        assert len(login.calls) >= 1000
        assert manager.failures >= 999 and [loop.name for loop in supervisor.loops] == [
            "token-refresh"
        ]
        gaps = [b - a for a, b in zip(login.calls[1:], login.calls[2:], strict=False)]
        assert all(gap <= LOGIN_RETRY_CAP for gap in gaps)  # capped: a few seconds at most
        early = sum(gaps[:3]) / 3
        late = sum(gaps[-50:]) / 50
        assert late > 2.5 * early, (early, late)  # delays grow
        assert events.stats.login_failures >= 1000
        # the old token is not sent once it reached its mandatory margin
        assert manager.usable() is None
        login.failing = False
        await clock.advance_to_next()
        assert manager.usable() is not None
        assert manager.failures == 0


async def test_expired_token_is_never_handed_out() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=100.0)
    async with running(login, clock) as (manager, _, _):
        token = await manager.get()
        login.gate = anyio.Event()
        await clock.advance(token.usable_until - clock.now())
        assert manager.usable() is None
        got: list[str] = []

        async def caller() -> None:
            got.append((await manager.get()).value)

        async with anyio.create_task_group() as tg:
            tg.start_soon(caller)
            await clock.settle()
            assert got == []  # waiting, not sending the expiring token
            login.gate.set()
        assert got == ["tok-2"]


async def test_thousand_waiters_at_expiry_cause_one_login() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock)
    async with running(login, clock) as (manager, events, _):
        login.gate = anyio.Event()
        results: list[int] = []

        async def caller() -> None:
            results.append((await manager.get()).generation)

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(caller)
            await clock.settle()
            assert len(login.calls) == 1
            login.gate.set()
        assert results == [1] * 1000
        assert events.stats.logins == 1


async def test_cancelling_half_the_waiters_leaves_the_others_served() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock)
    async with running(login, clock) as (manager, _, _):
        login.gate = anyio.Event()
        served: list[int] = []
        scopes: list[anyio.CancelScope] = []

        async def caller() -> None:
            with anyio.CancelScope() as scope:
                scopes.append(scope)
                served.append((await manager.get()).generation)

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(caller)
            await clock.settle()
            for scope in scopes[::2]:
                scope.cancel()
            await clock.settle()
            login.gate.set()
        assert len(served) == 500
        assert len(login.calls) == 1
        # nothing is left locked: a later forced login works and is single-flight again
        token = manager.current
        assert token is not None
        login.gate = None
        await clock.advance(5.0)
        replacement = await manager.replace_rejected(token)
        assert replacement.generation == 2


async def test_thousand_rejections_of_one_token_cause_one_login() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock)
    async with running(login, clock) as (manager, events, _):
        rejected = await manager.get()
        await clock.advance(10.0)
        login.gate = anyio.Event()
        got: list[int] = []

        async def replay() -> None:
            got.append((await manager.replace_rejected(rejected)).generation)

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(replay)
            await clock.settle()
            assert manager.usable() is None  # the refused token is no longer handed out
            login.gate.set()
        assert got == [2] * 1000
        assert len(login.calls) == 2
        assert events.stats.forced_logins == 1
        # a caller still holding the refused generation gets the newer one, no login
        assert (await manager.replace_rejected(rejected)).generation == 2
        assert len(login.calls) == 2


async def test_forced_logins_are_spaced_when_fresh_tokens_are_refused() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock)
    async with running(login, clock, relogin_min_interval=2.0) as (manager, _, _):
        token = await manager.get()
        await clock.advance(0.5)
        result: list[int] = []

        async def replay() -> None:
            result.append((await manager.replace_rejected(token)).generation)

        async with anyio.create_task_group() as tg:
            tg.start_soon(replay)
            await clock.settle()
            assert len(login.calls) == 1  # refused 0.5 s after issue: wait, do not storm
            await clock.advance(1.49)
            assert len(login.calls) == 1
            await clock.advance(0.02)
        assert result == [2]
        assert login.calls[-1] == pytest.approx(2.0, abs=0.02)


async def test_failed_login_is_not_repeated_by_every_caller() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock)
    login.failing = True
    async with running(login, clock) as (manager, _, _):
        for _ in range(2):  # one failure never blocks callers; repeated ones do
            with pytest.raises(NacosConnectionError):
                await manager.get()
        for _ in range(100):
            with pytest.raises(NacosConnectionError, match="login server down"):
                await manager.get()
        assert len(login.calls) == 2
        await clock.advance(1.0)  # past the second backoff (<= 1 s)
        login.failing = False
        assert (await manager.get()).generation == 1


async def test_login_raising_an_untyped_error_gives_waiters_a_typed_one() -> None:
    clock = FakeClock(start=0.0)

    async def broken() -> LoginResult:
        raise RuntimeError("boom")

    events = Events()
    supervisor = Supervisor(clock=clock, events=events)
    supervisor.start()
    manager = TokenManager(broken, clock=clock, events=events, supervisor=supervisor)
    with pytest.raises(NacosAuthError, match="login failed: RuntimeError") as info:
        await manager.get()
    assert "boom" not in str(info.value)  # the text of an untyped error may quote a password
    await supervisor.stop()


def test_token_repr_hides_the_value() -> None:
    from nacos_async.token import Token

    token = Token.from_login(
        LoginResult("secret-token-value", 100.0), generation=1, issued_at=0.0, rng=random.Random()
    )
    assert "secret-token-value" not in repr(token)
    assert "secret-token-value" not in repr(LoginResult("secret-token-value", 1.0))


async def test_one_failed_renewal_just_before_expiry_does_not_fail_callers() -> None:
    """Regression (fault matrix): a renewal that failed once must not make callers fail fast."""
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=6.0)
    async with running(login, clock) as (manager, _, _):
        token = await manager.get()
        await clock.advance(token.refresh_at - clock.now())
        login.failing = True
        assert await manager.refresh_step() <= LOGIN_RETRY_CAP  # failed: retried soon
        assert manager.failures == 1
        login.failing = False
        await clock.advance(token.usable_until - clock.now())  # still inside the backoff
        assert (await manager.get()).generation == 2


async def test_a_forced_login_with_a_shorter_ttl_reschedules_the_renewal() -> None:
    """3,600 s, then a forced login answers 4 s: the background renews before those 4 s end."""
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=3600.0)
    async with running(login, clock, relogin_min_interval=0) as (manager, events, _):
        manager.start()
        first = await manager.get()
        login.ttl = 4.0
        await manager.replace_rejected(first)  # a request was refused: forced login, TTL 4 s
        for _ in range(3):  # three more lifetimes: every renewal from the loop, none forced
            await clock.advance(4.0)
            assert manager.usable() is not None
        assert events.stats.proactive_refreshes >= 3
        assert events.stats.forced_logins == 1


async def test_after_a_long_login_outage_callers_recover_within_the_retry_cap() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=30.0)
    async with running(login, clock) as (manager, _, _):
        manager.start()
        await manager.get()
        login.failing = True
        failures_seen = 0
        while clock.now() < 600:  # ten minutes: twenty token lifetimes of outage
            try:
                await manager.get()
            except NacosConnectionError:
                failures_seen += 1
            await clock.advance(0.05)
        probes = len(login.calls)
        assert probes <= 600 / (LOGIN_RETRY_CAP / 2) + 20  # a bounded probe rate, no storm
        assert failures_seen > 1000  # callers failed fast meanwhile
        login.failing = False
        back = clock.now()
        while True:
            try:
                await manager.get()
                break
            except NacosConnectionError:
                await clock.advance(0.05)
        assert clock.now() - back <= LOGIN_RETRY_CAP + 0.1


async def test_every_forced_login_respects_the_minimum_interval() -> None:
    """A server that refuses every fresh token: forced logins from get() are spaced too."""
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=3600.0)
    async with running(login, clock, relogin_min_interval=1.0) as (manager, _, _):
        token = await manager.get()

        async def hammer() -> None:
            nonlocal token
            while clock.now() < 5.0:
                manager.reject(token)
                token = await manager.get()

        async with anyio.create_task_group() as tg:
            tg.start_soon(hammer)
            while clock.now() < 5.0:
                await clock.advance(0.01)
        assert len(login.calls) <= 7  # the first login and about one per second


async def test_a_very_long_ttl_is_renewed_at_least_daily() -> None:
    clock = FakeClock(start=0.0)
    login = FakeLogin(clock, ttl=400 * 24 * 3600.0)  # over a year
    async with running(login, clock) as (manager, events, _):
        manager.start()
        await clock.settle()
        token = manager.current
        assert token is not None
        assert token.refresh_at == pytest.approx(MAX_RENEWAL_INTERVAL)
        await clock.advance(MAX_RENEWAL_INTERVAL + 1)
        assert events.stats.proactive_refreshes == 1
