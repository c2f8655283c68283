"""Transport: token on the wire, failover, replay once after 403, limits and timeouts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from nacos_async.client import NacosClient
from nacos_async.errors import (
    NacosAuthError,
    NacosClosedError,
    NacosConnectionError,
    NacosPermissionError,
    NacosProtocolError,
    NacosTimeoutError,
)

from .helpers import BASE, forbidden, login_body, make_client, spring_error, url

LOGIN = BASE + "/v3/auth/user/login"
METRICS = "/v1/ns/operator/metrics"


class TokenServer:
    """An aioresponses callback pair: issues tok-N on login, accepts only the newest token."""

    def __init__(self) -> None:
        self.logins = 0
        self.valid: set[str] = set()
        self.seen: list[str | None] = []
        self.refusal = "token expired!"

    def login(self, _url: URL, **_: Any) -> CallbackResult:
        self.logins += 1
        token = f"tok-{self.logins}"
        self.valid = {token}
        return CallbackResult(payload=login_body(token, 18000))

    def expire_all(self) -> None:
        self.valid = set()

    def api(self, _url: URL, **kwargs: Any) -> CallbackResult:
        header = (kwargs.get("headers") or {}).get("Authorization")
        token = (
            header.removeprefix("Bearer ")
            if header
            else (kwargs.get("params") or {}).get("accessToken")
        )
        self.seen.append(token)
        if token not in self.valid:
            return forbidden(self.refusal)
        return CallbackResult(payload={"status": "UP"})


@contextmanager
def mocked(server: TokenServer) -> Iterator[aioresponses]:
    with aioresponses() as mock:
        mock.post(LOGIN, callback=lambda u, **k: server.login(u, **k), repeat=True)
        mock.get(url(METRICS), callback=server.api, repeat=True)
        yield mock


async def test_token_goes_in_the_bearer_header_by_default() -> None:
    server = TokenServer()
    with mocked(server) as mock:
        async with make_client(username="nacos", password="pw") as client:
            await client.request("GET", METRICS)
        (call,) = [c for k, v in mock.requests.items() if k[0] == "GET" for c in v]
    assert call.kwargs["headers"]["Authorization"] == "Bearer tok-1"
    assert "accessToken" not in (call.kwargs.get("params") or {})


async def test_token_goes_in_the_query_when_asked() -> None:
    server = TokenServer()
    with mocked(server) as mock:
        async with make_client(username="nacos", password="pw", token_placement="query") as c:
            await c.request("GET", METRICS, params={"x": "1"})
        (call,) = [c for k, v in mock.requests.items() if k[0] == "GET" for c in v]
    assert call.kwargs["params"] == {"x": "1", "accessToken": "tok-1"}
    assert "Authorization" not in call.kwargs["headers"]


async def test_no_login_and_no_token_when_auth_is_off() -> None:
    with aioresponses() as mock:
        mock.get(url(METRICS), payload={"status": "UP"})
        async with make_client() as client:
            response = await client.request("GET", METRICS)
            assert response.json() == {"status": "UP"}
        (call,) = [c for v in mock.requests.values() for c in v]
    assert "Authorization" not in call.kwargs["headers"]
    assert client.stats.logins == 0


async def test_failover_moves_through_the_servers_in_order_and_sticks() -> None:
    client = NacosClient("h0:8848,h1:8848,h2:8848", rng=random.Random(0), retry_backoff=0.001)
    start = client.transport.servers.current()
    order = list(client.transport.servers.servers)
    i = order.index(start)
    expected = [order[(i + k) % 3] for k in range(3)]
    with aioresponses() as mock:
        for server in expected[:2]:
            mock.get(
                f"http://{server.netloc}/nacos{METRICS}",
                exception=aiohttp.ClientConnectionError("refused"),
            )
        mock.get(f"http://{expected[2].netloc}/nacos{METRICS}", payload={"ok": 1}, repeat=True)
        async with client:
            await client.request("GET", METRICS)
            await client.request("GET", METRICS)
        hosts = [str(key[1].host) for key, calls in mock.requests.items() for _ in calls]
    assert sorted(hosts) == sorted(
        [expected[0].host, expected[1].host, expected[2].host, expected[2].host]
    )
    assert client.transport.servers.current() == expected[2]
    assert client.stats.failovers == 2
    assert client.stats.retries == 2


async def test_5xx_retries_then_raises_the_server_error() -> None:
    with aioresponses() as mock:
        mock.get(url(METRICS), status=503, body="busy", repeat=True)
        async with make_client(max_attempts=4) as client:
            with pytest.raises(Exception, match="status 503") as info:
                await client.request("GET", METRICS)
        assert sum(len(v) for v in mock.requests.values()) == 4
    assert "busy" in str(info.value)


async def test_accepted_statuses_are_returned_not_retried() -> None:
    with aioresponses() as mock:
        mock.get(url(METRICS), status=500, body="false")
        async with make_client() as client:
            response = await client.request("GET", METRICS, accept=(500,))
    assert response.status == 500 and response.text() == "false"


async def test_expired_token_is_replayed_once_with_a_fresh_login() -> None:
    server = TokenServer()
    with mocked(server):
        async with make_client(username="nacos", password="pw", relogin_min_interval=0) as client:
            server.expire_all()
            response = await client.request("GET", METRICS)
    assert response.status == 200
    assert server.seen == ["tok-1", "tok-2"]
    assert client.stats.replays == 1 and client.stats.forced_logins == 1


async def test_second_403_after_replay_raises_auth_error() -> None:
    server = TokenServer()
    with mocked(server):
        async with make_client(username="nacos", password="pw", relogin_min_interval=0) as client:
            server.valid = set()
            server.login = lambda *_a, **_k: CallbackResult(payload=login_body("never-valid"))  # type: ignore[method-assign]
            with pytest.raises(NacosAuthError, match="refused again") as info:
                await client.request("GET", METRICS)
    assert not isinstance(info.value, NacosPermissionError)
    assert server.seen == ["tok-1", "never-valid"]
    assert "token expired!" in str(info.value)


async def test_authorization_failed_raises_permission_error_after_one_request() -> None:
    server = TokenServer()
    server.refusal = "Code: 403, Message: authorization failed!."
    with mocked(server):
        async with make_client(username="nacos", password="pw") as client:
            server.valid = set()
            with pytest.raises(NacosPermissionError, match="authorization failed"):
                await client.request("GET", METRICS)
    assert len(server.seen) == 1
    assert server.logins == 1
    assert client.stats.permission_errors == 1


async def test_thousand_callers_refused_at_once_cause_one_login_and_one_replay_each() -> None:
    """All 1,000 requests are in flight with the expired token before any 403 comes back."""
    callers = 1000
    logins = 0
    refused = 0
    all_refused = asyncio.Event()
    seen: list[str] = []

    async def login(_: web.Request) -> web.Response:
        nonlocal logins
        logins += 1
        return web.json_response(login_body(f"tok-{logins}"))

    async def api(request: web.Request) -> web.Response:
        nonlocal refused
        token = request.headers["Authorization"].removeprefix("Bearer ")
        seen.append(token)
        if token == "tok-1":  # expired by the time these requests arrive
            refused += 1
            if refused == callers:
                all_refused.set()
            await all_refused.wait()
            return forbidden_response("token expired!")
        return web.json_response({"status": "UP"})

    app = web.Application()
    app.router.add_post("/nacos/v3/auth/user/login", login)
    app.router.add_get("/nacos" + METRICS, api)
    runner, port = await _serve(app)
    try:
        client = NacosClient(f"127.0.0.1:{port}", username="nacos", password="pw",
                             pool_size=callers, relogin_min_interval=0)  # fmt: skip
        async with client:
            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    for _ in range(callers):
                        tg.start_soon(client.request, "GET", METRICS)
    finally:
        await runner.cleanup()
    assert logins == 2
    assert client.stats.forced_logins == 1
    assert client.stats.replays == callers
    assert seen.count("tok-1") == callers and seen.count("tok-2") == callers


def forbidden_response(message: str) -> web.Response:
    return web.Response(
        status=403, text=spring_error(403, message), content_type="application/json"
    )


async def test_a_call_after_close_raises_closed_error() -> None:
    client = make_client()
    with pytest.raises(NacosClosedError, match="new"):
        await client.request("GET", METRICS)
    async with client:
        pass
    with pytest.raises(NacosClosedError, match="closed"):
        await client.request("GET", METRICS)
    with pytest.raises(NacosClosedError):
        await client.start()


@pytest.mark.parametrize(
    ("method", "path", "options", "match"),
    [
        ("GET", "v1/no-slash", {}, "must start with '/'"),
        ("BREW", "/v1/x", {}, "unsupported HTTP method 'BREW'"),
        ("GET", "/v1/x", {"timeout": -1}, "timeout must be > 0 seconds, got -1"),
        ("GET", "/v1/x", {"timeout": 0}, "got 0"),
    ],
)
async def test_bad_request_arguments_are_value_errors(
    method: str, path: str, options: dict[str, Any], match: str
) -> None:
    async with make_client() as client:
        with pytest.raises(ValueError, match=match):
            await client.request(method, path, **options)


async def test_oversized_answers_are_refused() -> None:
    with aioresponses() as mock:
        mock.get(url(METRICS), body=b"x" * 5000)
        async with make_client(max_response_bytes=4096) as client:
            with pytest.raises(NacosProtocolError, match="max_response_bytes=4096"):
                await client.request("GET", METRICS)


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


async def test_slow_server_gives_a_timeout_error_within_the_deadline() -> None:
    release = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/nacos" + METRICS, slow)
    runner, port = await _serve(app)
    try:
        async with NacosClient(f"127.0.0.1:{port}", request_timeout=0.2, max_attempts=2,
                               retry_backoff=0.01) as client:  # fmt: skip
            with anyio.fail_after(5):
                with pytest.raises(NacosTimeoutError, match=r"no answer within 0\.2s"):
                    await client.request("GET", METRICS)
        assert client.stats.retries == 1
    finally:
        release.set()
        await runner.cleanup()


async def test_unreachable_server_is_a_connection_error() -> None:
    runner, port = await _serve(web.Application())
    await runner.cleanup()  # nothing listens on that port any more
    async with NacosClient(f"127.0.0.1:{port}", max_attempts=2, retry_backoff=0.01) as client:
        with pytest.raises(NacosConnectionError, match=f"127.0.0.1:{port}"):
            await client.request("GET", METRICS)


async def test_truncated_answer_is_a_connection_error() -> None:
    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"short")
        assert request.transport is not None
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_get("/nacos" + METRICS, truncated)
    runner, port = await _serve(app)
    try:
        async with NacosClient(f"127.0.0.1:{port}", max_attempts=1) as client:
            with pytest.raises(NacosConnectionError):
                await client.request("GET", METRICS)
    finally:
        await runner.cleanup()


async def test_a_failing_login_is_raised_as_is_without_failing_over_the_api_server() -> None:
    with aioresponses() as mock:
        mock.post(LOGIN, payload=login_body())
        mock.post(LOGIN, status=403, body="user not found!", repeat=True)
        client = make_client(username="nacos", password="pw", relogin_min_interval=0)
        async with client:
            assert client.tokens is not None and client.tokens.current is not None
            client.tokens._rejected_generation = client.tokens.current.generation  # revoked
            with pytest.raises(NacosAuthError, match="login refused for user 'nacos'"):
                await client.request("GET", METRICS)
    assert client.stats.failovers == 0 and client.stats.retries == 0
