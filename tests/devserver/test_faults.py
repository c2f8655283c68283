"""Every fault switch, from Python and over HTTP, each seen by a request."""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest

from nacos_async.testing import FakeClock, NacosDevServer

from ._helpers import login

CFG = "/v1/cs/configs?dataId=a&group=DEFAULT_GROUP"


async def _get(
    http: aiohttp.ClientSession, server: NacosDevServer, token: str
) -> aiohttp.ClientResponse:
    async with http.get(f"{server.url}{CFG}", params={"accessToken": token}) as resp:
        await resp.read()
        return resp


async def _control(
    http: aiohttp.ClientSession, server: NacosDevServer, action: str, **q: str
) -> object:
    async with http.post(f"http://{server.address}/__dev__/{action}", params=q) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["ok"] is True
        return body["result"]


@pytest.fixture
async def server() -> object:
    async with NacosDevServer() as server:
        server.publish_config("a", "x")
        yield server


async def test_rotate_secret(http: aiohttp.ClientSession, server: NacosDevServer) -> None:
    token = await login(http, server)
    old = server.secret_key
    await _control(http, server, "rotate-secret")
    assert server.secret_key != old
    resp = await _get(http, server, token)
    assert resp.status == 403
    assert server.stats.forbidden["Invalid signature"] == 1
    assert (await _get(http, server, await login(http, server))).status == 200


async def test_expire_tokens(http: aiohttp.ClientSession, server: NacosDevServer) -> None:
    token = await login(http, server)
    server.expire_tokens()
    assert (await _get(http, server, token)).status == 403
    assert server.stats.forbidden["token expired!"] == 1
    token = await login(http, server)
    await _control(http, server, "expire-tokens")
    assert (await _get(http, server, token)).status == 403
    assert server.stats.forbidden["token expired!"] == 2


async def test_token_ttl_and_clock(http: aiohttp.ClientSession, server: NacosDevServer) -> None:
    assert await _control(http, server, "token-ttl", seconds="5") == 5
    async with http.post(f"{server.url}/v1/auth/login?username=nacos&password=nacos") as resp:
        body = await resp.json()
    assert body["tokenTtl"] == 5
    assert (await _get(http, server, body["accessToken"])).status == 200
    await _control(http, server, "clock", seconds="3600")  # skew the server clock by an hour
    assert (await _get(http, server, body["accessToken"])).status == 403


async def test_latency(http: aiohttp.ClientSession, server: NacosDevServer) -> None:
    token = await login(http, server)
    await _control(http, server, "latency", seconds="0.2")
    started = time.perf_counter()
    assert (await _get(http, server, token)).status == 200
    assert time.perf_counter() - started >= 0.2
    server.set_latency(0)
    started = time.perf_counter()
    await _get(http, server, token)
    assert time.perf_counter() - started < 0.2


async def test_fail_next_with_status(http: aiohttp.ClientSession, server: NacosDevServer) -> None:
    token = await login(http, server)
    await _control(http, server, "fail-next", count="2", status="503")
    assert [(await _get(http, server, token)).status for _ in range(3)] == [503, 503, 200]
    server.fail_next(1, 500, body="boom", path="/v1/ns/")
    assert (await _get(http, server, token)).status == 200  # path filter: config untouched
    async with http.get(f"{server.url}/v1/ns/instance/list?serviceName=s&accessToken={token}") as r:
        assert (r.status, await r.text()) == (500, "boom")


async def test_fail_next_with_status_0_drops(
    http: aiohttp.ClientSession, server: NacosDevServer
) -> None:
    token = await login(http, server)
    server.fail_next(1, 0)
    # A POST: aiohttp silently retries idempotent requests once after a disconnect.
    form = {"dataId": "a", "group": "DEFAULT_GROUP", "content": "y", "accessToken": token}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with http.post(f"{server.url}/v1/cs/configs", data=form):
            pass
    assert server.stats.statuses[0] == 1
    assert server.get_config("a") == "x"  # dropped before the handler ran
    assert (await _get(http, server, token)).status == 200


async def test_reset_connections_ends_held_long_poll(
    http: aiohttp.ClientSession, server: NacosDevServer
) -> None:
    token = await login(http, server)
    md5 = server.configs.md5(("public", "DEFAULT_GROUP", "a"))

    async def poll() -> None:
        async with http.post(
            f"{server.url}/v1/cs/configs/listener",
            data={"Listening-Configs": f"a\x02DEFAULT_GROUP\x02{md5}\x01"},
            headers={"Long-Pulling-Timeout": "30000", "accessToken": token},
        ) as resp:
            await resp.read()

    task = asyncio.create_task(poll())
    await server.wait_for_listeners(1)
    assert server.reset_connections() >= 1
    with pytest.raises(aiohttp.ClientError):
        await task
    await _control(http, server, "reset-connections")  # the HTTP form answers, then resets
    assert (await _get(http, server, token)).status == 200


async def test_pause_refuses_connections_and_resume_rebinds_same_port(
    http: aiohttp.ClientSession, server: NacosDevServer
) -> None:
    token = await login(http, server)
    port = server.port
    await server.pause()
    with pytest.raises(aiohttp.ClientConnectorError):
        await _get(http, server, token)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    await server.resume()
    assert server.port == port
    assert (await _get(http, server, token)).status == 200


async def test_pause_over_http_for_a_while(
    http: aiohttp.ClientSession, server: NacosDevServer
) -> None:
    token = await login(http, server)
    await _control(http, server, "pause", seconds="0.3")
    await asyncio.sleep(0.1)  # the pause starts 10 ms after the answer
    with pytest.raises(aiohttp.ClientConnectorError):
        await _get(http, server, token)
    for _ in range(100):  # and ends by itself after 0.3 s
        await asyncio.sleep(0.02)
        if not server.paused:
            break
    assert (await _get(http, server, token)).status == 200


async def test_forget_instances(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False, clock=FakeClock()) as server:
        reg = {"serviceName": "s", "ip": "1.1.1.1", "port": "1"}
        async with http.post(f"{server.url}/v1/ns/instance", data=reg) as resp:
            assert resp.status == 200
        await _control(http, server, "forget-instances")
        async with http.put(f"{server.url}/v1/ns/instance/beat", params=reg) as resp:
            assert (await resp.json())["code"] == 20404


@pytest.mark.parametrize("keep_state", [True, False])
async def test_restart(http: aiohttp.ClientSession, keep_state: bool) -> None:
    async with NacosDevServer() as server:
        server.publish_config("a", "x")
        server.add_user("temp", "pw", admin=True)
        token = await login(http, server)
        port = server.port
        await server.restart(keep_state=keep_state)
        assert server.port == port
        # The secret key is configuration: tokens survive either way.
        assert (await _get(http, server, token)).status == (200 if keep_state else 404)
        async with http.post(
            f"{server.url}/v1/auth/login", data={"username": "temp", "password": "pw"}
        ) as resp:
            assert resp.status == (200 if keep_state else 403)


async def test_restart_over_http(http: aiohttp.ClientSession, server: NacosDevServer) -> None:
    token = await login(http, server)
    await _control(http, server, "restart", keep_state="false")
    for _ in range(100):
        await asyncio.sleep(0.01)
        if server.stats.faults["restart"]:
            break
    assert (await _get(http, server, token)).status == 404  # configs are gone
    async with http.get(f"http://{server.address}/__dev__/stats") as resp:
        stats = await resp.json()
    assert stats["result"]["faults"]["restart"] == 1


async def test_unknown_control_is_404_with_list(
    http: aiohttp.ClientSession, server: NacosDevServer
) -> None:
    async with http.post(f"http://{server.address}/__dev__/nope") as resp:
        assert resp.status == 404
        assert "POST /__dev__/rotate-secret" in (await resp.json())["known"]
    async with http.post(f"http://{server.address}/__dev__/latency") as resp:
        assert resp.status == 400


async def test_a_gzip_bomb_is_a_small_body_that_inflates_to_the_size_asked() -> None:
    import aiohttp

    async with NacosDevServer(auth=False) as server:
        server.serve_gzip_bomb(1, inflated=8 << 20, path="/v1/cs/configs")
        async with aiohttp.ClientSession() as http:
            url = f"{server.url}/v1/cs/configs?dataId=a&group=G"
            async with http.get(url, auto_decompress=False) as raw:
                compressed = await raw.read()
                assert raw.headers["Content-Encoding"] == "gzip"
            async with http.get(url) as again:  # one bomb only: back to normal answers
                assert again.status == 404
        assert len(compressed) < 64 * 1024
        import gzip

        assert len(gzip.decompress(compressed)) == 8 << 20
