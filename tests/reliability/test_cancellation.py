"""Cancel callers at random points, thousands of times; close under load. Nothing may stick."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import anyio
import pytest
from aiohttp import web

from nacos_async.client import NacosClient
from nacos_async.errors import NacosClosedError, NacosError

PATH = "/v1/ns/operator/metrics"


def client_tasks() -> list[asyncio.Task[object]]:
    """Tasks running our code (the test server's handler tasks share the loop)."""
    found = []
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None)
        if task is not asyncio.current_task() and code and "nacos_async" in code.co_filename:
            found.append(task)
    return found


class FlakyAuthServer:
    """Tokens revoked every 400th call, and answers with random latency."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.logins = 0
        self.valid = ""
        self.calls = 0

    async def login(self, _: web.Request) -> web.Response:
        self.logins += 1
        self.valid = f"tok-{self.logins}"
        await asyncio.sleep(self.rng.uniform(0, 0.003))
        return web.json_response({"accessToken": self.valid, "tokenTtl": 60, "globalAdmin": True})

    async def api(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.rng.uniform(0, 0.003))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.calls += 1
        if token == self.valid and self.calls % 400 == 0:
            self.valid = "revoked"  # a revocation now and then
        if token != self.valid:
            return web.json_response({"status": 403, "message": "token expired!"}, status=403)
        return web.json_response({"status": "UP"})


@pytest.fixture
async def server() -> AsyncIterator[tuple[FlakyAuthServer, str]]:
    fake = FlakyAuthServer(seed=11)
    app = web.Application()
    app.router.add_post("/nacos/v3/auth/user/login", fake.login)
    app.router.add_get("/nacos" + PATH, fake.api)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield fake, f"127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_thousands_of_random_cancellations_leave_the_client_usable(
    server: tuple[FlakyAuthServer, str],
) -> None:
    _, address = server
    rng = random.Random(5)
    outcomes = {"done": 0, "cancelled": 0, "error": 0}
    errors: list[str] = []
    client = NacosClient(address, username="nacos", password="pw", relogin_min_interval=0)
    async with client:

        async def caller(budget: float) -> None:
            with anyio.move_on_after(budget) as scope:
                try:
                    await client.request("GET", PATH)
                except NacosError as exc:
                    outcomes["error"] += 1
                    errors.append(str(exc))
                    return
            outcomes["cancelled" if scope.cancelled_caught else "done"] += 1

        with anyio.fail_after(60):
            for _ in range(20):
                async with anyio.create_task_group() as tg:
                    for _ in range(150):
                        tg.start_soon(caller, rng.uniform(0, 0.15))
        assert outcomes["cancelled"] > 300 and outcomes["done"] > 300, outcomes
        assert outcomes["error"] == 0, (outcomes, errors[:3])
        # still usable: a fresh call succeeds, no login is stuck in flight
        with anyio.fail_after(5):
            for _ in range(20):
                assert (await client.request("GET", PATH)).status == 200
        assert client.health().ok  # no login stuck, no background task dead
    assert client.stats.replays > 0
    assert client_tasks() == []


async def test_close_under_heavy_load_returns_promptly_and_fails_callers_cleanly(
    server: tuple[FlakyAuthServer, str],
) -> None:
    _, address = server
    client = NacosClient(address, username="nacos", password="pw", relogin_min_interval=0)
    await client.start()
    results: list[str] = []

    async def caller() -> None:
        try:
            for _ in range(50):
                await client.request("GET", PATH)
            results.append("finished")
        except NacosClosedError:
            results.append("closed")
        except NacosError as exc:  # a request cut by the closing session
            results.append(type(exc).__name__)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for _ in range(500):
                tg.start_soon(caller)
            await anyio.sleep(0.05)  # let the load build up (real I/O), then close under it
            with anyio.fail_after(5):
                await client.close()
    assert len(results) == 500
    assert "closed" in results
    assert set(results) <= {"finished", "closed", "NacosConnectionError"}
    assert client_tasks() == []
