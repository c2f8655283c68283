"""Client lifecycle and hygiene: start/close, own vs given session, secrets nowhere."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from aiohttp import web
from aioresponses import CallbackResult, aioresponses

from nacos_async.client import NacosClient
from nacos_async.errors import NacosAuthError, NacosConnectionError, NacosError
from nacos_async.events import Event

from .helpers import BASE, forbidden, login_body, make_client, url

LOGIN = BASE + "/v3/auth/user/login"
PASSWORD = "pa55-word-never-shown"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJuYWNvcyJ9.never-shown-signature"


async def test_close_leaves_no_task_and_closes_its_session() -> None:
    with aioresponses() as mock:
        mock.post(LOGIN, payload=login_body(), repeat=True)
        client = make_client(username="nacos", password="pw")
        await client.start()
        session = client.transport.session
        assert len(asyncio.all_tasks()) > 1  # supervisor and refresh loop
        await client.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert session.closed
    await client.close()  # idempotent


async def test_a_given_session_is_used_and_left_open() -> None:
    async with aiohttp.ClientSession() as session:
        with aioresponses() as mock:
            mock.get(url("/v1/ns/operator/metrics"), payload={})
            async with NacosClient("nacos.test:8848", session=session) as client:
                await client.request("GET", "/v1/ns/operator/metrics")
        assert not session.closed


async def test_user_exceptions_inside_async_with_are_not_wrapped() -> None:
    with pytest.raises(KeyError):
        async with make_client():
            raise KeyError("mine")


async def test_lazy_login_waits_for_the_first_request() -> None:
    with aioresponses() as mock:
        mock.post(LOGIN, payload=login_body())
        mock.get(url("/v1/ns/operator/metrics"), payload={})
        async with make_client(username="nacos", password="pw", lazy_login=True) as client:
            assert client.stats.logins == 0
            await client.request("GET", "/v1/ns/operator/metrics")
            assert client.stats.logins == 1


async def test_address_server_provides_the_server_list() -> None:
    async def metrics(_: web.Request) -> web.Response:
        return web.json_response({"up": 1})

    nacos = web.Application()
    nacos.router.add_get("/nacos/v1/ns/operator/metrics", metrics)
    nacos_runner = web.AppRunner(nacos)
    await nacos_runner.setup()
    await web.TCPSite(nacos_runner, "127.0.0.1", 0).start()
    nacos_port = nacos_runner.addresses[0][1]

    async def serverlist(_: web.Request) -> web.Response:
        return web.Response(text=f"127.0.0.1:{nacos_port}\n")

    address = web.Application()
    address.router.add_get("/nacos/serverlist", serverlist)
    address_runner = web.AppRunner(address)
    await address_runner.setup()
    await web.TCPSite(address_runner, "127.0.0.1", 0).start()
    address_port = address_runner.addresses[0][1]
    try:
        client = NacosClient("unused.invalid:1", endpoint=f"127.0.0.1:{address_port}")
        async with client:
            response = await client.request("GET", "/v1/ns/operator/metrics")
            assert response.json() == {"up": 1}
            assert [s.port for s in client.transport.servers.servers] == [nacos_port]
    finally:
        await nacos_runner.cleanup()
        await address_runner.cleanup()


async def test_event_hooks_see_login_replay_and_a_raising_hook_is_contained() -> None:
    seen: list[str] = []
    tokens = iter(["t1", "t2"])
    with aioresponses() as mock:
        mock.post(
            LOGIN,
            callback=lambda *_a, **_k: CallbackResult(payload=login_body(next(tokens))),
            repeat=True,
        )
        mock.get(url("/v1/x"), callback=lambda *_a, **_k: forbidden("token expired!"))
        mock.get(url("/v1/x"), payload={})
        client = make_client(username="nacos", password="pw", relogin_min_interval=0)
        client.add_event_hook(lambda e: seen.append(e.kind))

        def broken(_: Event) -> None:
            raise RuntimeError("hook bug")

        client.add_event_hook(broken)
        async with client:
            await client.request("GET", "/v1/x")
    assert "login" in seen and "replay" in seen and "forced_login" in seen


async def test_no_secret_in_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[NacosError] = []
    with aioresponses() as mock:
        mock.post(LOGIN, payload=login_body(TOKEN), repeat=True)
        mock.get(url("/v1/a"), callback=lambda *_a, **_k: forbidden("token expired!"), repeat=True)
        mock.get(
            url("/v1/b"), exception=aiohttp.ClientConnectionError(f"boom ?accessToken={TOKEN}")
        )
        client = make_client(
            username="nacos", password=PASSWORD, token_placement="query", relogin_min_interval=0,
            access_key="ak", secret_key="sk-" + PASSWORD, max_attempts=1,
        )  # fmt: skip
        async with client:
            for path, error in (("/v1/a", NacosAuthError), ("/v1/b", NacosConnectionError)):
                with pytest.raises(error) as info:
                    await client.request("GET", path, resource="config")
                errors.append(info.value)
            texts = [
                repr(client),
                repr(client.settings),
                repr(client.tokens),
                repr(client.tokens.current if client.tokens else None),
            ]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "expected DEBUG records to inspect"
    for text in texts:
        assert PASSWORD not in text
        assert TOKEN not in text
