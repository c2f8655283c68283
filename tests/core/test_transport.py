"""The request sender: token on the wire, failover, deadline, replay after 401/403, limits."""

from __future__ import annotations

import asyncio
import gzip
import random
from typing import Any

import anyio
import pytest
from aiohttp import web

from nacos_async.client import NacosClient
from nacos_async.errors import (
    NacosAuthError,
    NacosClosedError,
    NacosConnectionError,
    NacosPermissionError,
    NacosProtocolError,
    NacosTimeoutError,
)
from nacos_async.testing import FakeClock, HttpRequest, MockTransport, answer

from .helpers import LOGIN, METRICS, FakeNacos, forbidden, login_body, make_client, token_of


async def test_token_goes_in_the_bearer_header_by_default() -> None:
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw") as client:
        await client.request("GET", METRICS)
    call = fake.requests[-1]
    assert (call.headers or {})["Authorization"] == "Bearer tok-1"
    assert "accessToken" not in (call.params or {})


async def test_token_goes_in_the_query_when_asked() -> None:
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw", token_placement="query") as c:
        await c.request("GET", METRICS, params={"x": "1"})
    call = fake.requests[-1]
    assert call.params == {"x": "1", "accessToken": "tok-1"}
    assert "Authorization" not in (call.headers or {})


async def test_no_login_and_no_token_when_auth_is_off() -> None:
    fake = FakeNacos()
    async with make_client(fake) as client:
        response = await client.request("GET", METRICS)
        assert response.json() == {"status": "UP"}
    (call,) = fake.requests
    assert "Authorization" not in (call.headers or {})
    assert client.stats.logins == 0


async def test_failover_moves_through_the_servers_in_order_and_sticks() -> None:
    hosts: list[str] = []

    def network(request: HttpRequest) -> Any:
        hosts.append(request.server)
        if len(hosts) <= 2:
            raise NacosConnectionError("refused", server=request.server)
        return answer(json={"ok": 1})

    client = NacosClient("h0:8848,h1:8848,h2:8848", rng=random.Random(0), retry_backoff=0.001,
                         transport=MockTransport(network))  # fmt: skip
    async with client:
        start = client.health().current_server
        order = client.health().servers
        i = order.index(start)
        expected = [order[(i + k) % 3] for k in range(3)]
        await client.request("GET", METRICS)
        await client.request("GET", METRICS)
        assert client.health().current_server == expected[2]
    assert hosts == [expected[0], expected[1], expected[2], expected[2]]
    assert client.stats.failovers == 2
    assert client.stats.retries == 2


async def test_5xx_retries_then_raises_the_server_error() -> None:
    fake = FakeNacos()
    fake.route("GET", METRICS, lambda _: answer(503, text="busy"))
    async with make_client(fake, max_attempts=4) as client:
        with pytest.raises(Exception, match="status 503") as info:
            await client.request("GET", METRICS)
    assert len(fake.requests) == 4
    assert "busy" in str(info.value)


async def test_accepted_statuses_are_returned_not_retried() -> None:
    fake = FakeNacos()
    fake.route("GET", METRICS, lambda _: answer(500, text="false"))
    async with make_client(fake) as client:
        response = await client.request("GET", METRICS, accept=(500,))
    assert response.status == 500 and response.text() == "false"
    assert len(fake.requests) == 1


async def test_expired_token_is_replayed_once_with_a_fresh_login() -> None:
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw", relogin_min_interval=0) as c:
        fake.expire_all()
        response = await c.request("GET", METRICS)
    assert response.status == 200
    assert fake.seen == ["tok-1", "tok-2"]
    assert c.stats.replays == 1 and c.stats.forced_logins == 1


async def test_a_401_with_a_token_message_is_replayed_like_a_403() -> None:
    """Some gateways and auth plugins answer 401 for a bad token."""
    fake = FakeNacos()
    refusals = [forbidden("token expired!", status=401)]
    fake.route("GET", METRICS, lambda _: refusals.pop() if refusals else answer(json={}))
    async with make_client(fake, username="nacos", password="pw", relogin_min_interval=0) as c:
        response = await c.request("GET", METRICS)
    assert response.status == 200
    assert fake.seen == ["tok-1", "tok-2"]
    assert c.stats.forced_logins == 1


async def test_second_403_after_replay_raises_auth_error() -> None:
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw", relogin_min_interval=0) as c:
        fake.login_refusal = answer(json=login_body("never-valid"))
        fake.expire_all()
        with pytest.raises(NacosAuthError, match="refused again") as info:
            await c.request("GET", METRICS)
    assert not isinstance(info.value, NacosPermissionError)
    assert fake.seen == ["tok-1", "never-valid"]
    assert "token expired!" in str(info.value)


async def test_authorization_failed_raises_permission_error_after_one_request() -> None:
    fake = FakeNacos()
    fake.refusal = "Code: 403, Message: authorization failed!."
    async with make_client(fake, username="nacos", password="pw") as client:
        fake.expire_all()
        with pytest.raises(NacosPermissionError, match="authorization failed"):
            await client.request("GET", METRICS)
    assert len(fake.seen) == 1
    assert fake.logins == 1
    assert client.stats.permission_errors == 1


async def test_a_refused_replay_reuses_a_newer_token_another_caller_obtained() -> None:
    """Two invalidations within one request's life (expiry, then a rotation while the replay
    is in flight): the replay's refusal does not surface when another caller's login already
    made a newer token, and this request causes no login of its own."""
    logins = 0
    held: dict[str, asyncio.Event] = {}  # token -> gate: held, then refused
    refused_now: set[str] = set()

    async def server(request: HttpRequest) -> Any:
        nonlocal logins
        if request.path == LOGIN:
            logins += 1
            return answer(json=login_body(f"tok-{logins}"))
        token = token_of(request) or ""
        gate = held.pop(token, None)
        if gate is not None:
            await gate.wait()
            return forbidden("Invalid signature")
        return forbidden("Invalid signature") if token in refused_now else answer(json={})

    client = NacosClient("nacos.test:8848", username="nacos", password="pw",
                         relogin_min_interval=0, transport=MockTransport(server))  # fmt: skip
    async with client:
        first, second = asyncio.Event(), asyncio.Event()
        held.update({"tok-1": first, "tok-2": second})
        slow = asyncio.create_task(client.request("GET", METRICS))  # tok-1, held
        await anyio.wait_all_tasks_blocked()
        refused_now.add("tok-1")
        first.set()  # refused: one forced login makes tok-2; the replay with tok-2 is held
        await anyio.wait_all_tasks_blocked()
        assert logins == 2 and "tok-2" not in held
        refused_now.add("tok-2")  # the secret rotates again
        other = await client.request("GET", METRICS)  # refused, logs in: tok-3
        assert other.status == 200 and logins == 3
        second.set()  # the slow request's replay is refused too...
        response = await slow  # ...and goes again with tok-3, no login of its own
    assert response.status == 200
    assert logins == 3
    assert client.stats.auth_errors == 0 and client.stats.replays == 3


async def test_request_wait_for_a_token_is_bounded_by_its_timeout() -> None:
    clock = FakeClock(start=0.0)
    gate = asyncio.Event()
    fake = FakeNacos(ttl=4)

    async def slow_login(request: HttpRequest) -> Any:
        if request.path == LOGIN and fake.logins >= 1:
            await gate.wait()  # the renewal hangs far past the token's life
        return await fake.handle(request)

    client = NacosClient("nacos.test:8848", username="nacos", password="pw", clock=clock,
                         request_timeout=3, transport=MockTransport(slow_login),
                         rng=random.Random(0))  # fmt: skip
    async with client:
        await clock.advance(4.0)  # the token expired; its renewal hangs
        call = asyncio.create_task(client.request("GET", METRICS))
        await clock.settle()
        await clock.advance(2.9)
        assert not call.done()
        await clock.advance(0.2)
        with pytest.raises(NacosTimeoutError, match=r"no token within .* login"):
            await call
        gate.set()


async def test_a_call_after_close_raises_closed_error() -> None:
    client = make_client()
    with pytest.raises(NacosClosedError, match="new"):
        await client.request("GET", METRICS)
    async with client:
        pass
    with pytest.raises(NacosClosedError, match="closed"):
        await client.request("GET", METRICS)
    pending = client.request("GET", METRICS)  # raises where it is awaited, as an async def would
    with pytest.raises(NacosClosedError, match="closed"):
        await pending
    with pytest.raises(NacosClosedError):
        await client.start()


@pytest.mark.parametrize(
    ("method", "path", "options", "match"),
    [
        ("GET", "v1/no-slash", {}, "must start with '/'"),
        ("BREW", "/v1/x", {}, "unsupported HTTP method 'BREW'"),
        ("GET", "/v1/x", {"timeout": -1}, "timeout must be > 0 seconds, got -1"),
        ("GET", "/v1/x", {"timeout": 0}, "got 0"),
        ("GET", "x" * 100_000, {}, r"\(100002 chars\)"),  # quoted, but cut short
    ],
)
async def test_bad_request_arguments_are_value_errors(
    method: str, path: str, options: dict[str, Any], match: str
) -> None:
    async with make_client() as client:
        with pytest.raises(ValueError, match=match) as info:
            await client.request(method, path, **options)
    assert len(str(info.value)) < 300


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
    response = forbidden(message)
    return web.Response(status=403, body=response.body, content_type="application/json")


async def test_oversized_answers_are_refused() -> None:
    async def big(_: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    app = web.Application()
    app.router.add_get("/nacos" + METRICS, big)
    runner, port = await _serve(app)
    try:
        async with NacosClient(f"127.0.0.1:{port}", max_response_bytes=4096) as client:
            with pytest.raises(NacosProtocolError, match="max_response_bytes=4096"):
                await client.request("GET", METRICS)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_compressed_answer_is_limited_by_its_decoded_size(chunked: bool) -> None:
    """A 100 KB gzip body that inflates to 100 MB: refused while it inflates."""
    bomb = gzip.compress(b"\0" * (100 * 1024 * 1024), compresslevel=9)

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Encoding": "gzip"})
        if not chunked:
            response.content_length = len(bomb)
        await response.prepare(request)
        await response.write(bomb)
        return response

    app = web.Application()
    app.router.add_get("/nacos" + METRICS, handler)
    runner, port = await _serve(app)
    try:
        async with NacosClient(f"127.0.0.1:{port}", max_response_bytes=1024 * 1024,
                               max_attempts=1) as client:  # fmt: skip
            with pytest.raises(NacosProtocolError, match="max_response_bytes=1048576"):
                await client.request("GET", METRICS)
    finally:
        await runner.cleanup()


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
        assert client.stats.retries == 0  # the timeout bounds the whole request
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
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw", relogin_min_interval=0) as c:
        fake.login_refusal = answer(403, text="user not found!")
        fake.expire_all()  # revoked: the replay needs a login, which is refused
        with pytest.raises(NacosAuthError, match="login refused for user 'nacos'"):
            await c.request("GET", METRICS)
    assert c.stats.failovers == 0 and c.stats.retries == 0


async def test_waiting_for_a_connection_slot_is_bounded_by_the_timeout() -> None:
    clock = FakeClock(start=0.0)
    release = asyncio.Event()
    fake = FakeNacos()

    async def hold(_: HttpRequest) -> Any:
        await release.wait()
        return answer(json={})

    fake.route("GET", "/v1/slow", hold)
    client = NacosClient("nacos.test:8848", pool_size=1, request_timeout=2, clock=clock,
                         transport=fake.transport, rng=random.Random(0))  # fmt: skip
    async with client:
        holder = asyncio.create_task(client.request("GET", "/v1/slow"))
        await clock.settle()
        waiter = asyncio.create_task(client.request("GET", METRICS))
        await clock.settle()
        await clock.advance(2.1)
        with pytest.raises(NacosTimeoutError, match="no free connection slot within 2s"):
            await waiter
        release.set()
        await holder


async def test_proxies_from_the_environment_are_used_only_with_trust_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))  # a forward proxy gets the absolute URL
        return web.json_response({"via": "proxy"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner, port = await _serve(app)
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with NacosClient("nacos.invalid:8848", trust_env=True, max_attempts=1) as client:
            response = await client.request("GET", METRICS)
        assert response.json() == {"via": "proxy"}
        assert seen == [f"http://nacos.invalid:8848/nacos{METRICS}"]
        async with NacosClient("nacos.invalid:8848", max_attempts=1) as client:  # the default
            with pytest.raises(NacosConnectionError):
                await client.request("GET", METRICS)
        assert len(seen) == 1
    finally:
        await runner.cleanup()


async def test_a_password_that_cannot_be_encoded_never_reaches_the_error() -> None:
    """A password read from a non-UTF-8 environment holds surrogates: the codec error's text
    quotes it, so the login error must not."""
    password = "pa\udcff-secret"
    client = make_client(username="nacos", password=password)
    with pytest.raises(NacosAuthError) as info:
        await client.start()
    assert "secret" not in str(info.value) and "\\udcff" not in str(info.value)
    assert "UnicodeEncodeError" in str(info.value)
