"""``ServiceSession``: calls by service name, weighted, watched, failing instances set aside."""

from __future__ import annotations

import asyncio
import random
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import aiohttp
import anyio
import pytest
from aiohttp import web

from nacos_async import (
    NacosClient,
    NacosNotFoundError,
    NacosServiceUnavailableError,
    NacosTimeoutError,
)
from nacos_async.integrations.service_session import ServiceSession
from nacos_async.testing import FakeClock, NacosDevServer


@asynccontextmanager
async def http_instance(name: str, hits: Counter[str]) -> AsyncIterator[int]:
    """A tiny HTTP server answering every path with its name; yields its port."""
    closing = asyncio.Event()

    async def answer(request: web.Request) -> web.Response:
        hits[name] += 1
        if request.path == "/slow":
            await closing.wait()  # no answer until the server closes
        return web.json_response({"instance": name, "path": request.path})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        closing.set()
        await runner.cleanup()


@asynccontextmanager
async def hang_up_after_request() -> AsyncIterator[int]:
    """A server that reads a request and closes the connection without answering."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: connecting is refused


def counting_session(attempts: Counter[int]) -> aiohttp.ClientSession:
    """An aiohttp session that counts the requests it starts, per port (refused ones too)."""

    async def started(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        assert params.url.port is not None
        attempts[params.url.port] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    return aiohttp.ClientSession(trace_configs=[trace])


async def test_calls_go_to_instances_by_weight_with_no_nacos_request_per_call() -> None:
    hits: Counter[str] = Counter()
    lists: list[str] = []
    async with (
        NacosDevServer(auth=False) as server,
        NacosClient(server.address) as nacos,
        http_instance("light", hits) as light,
        http_instance("heavy", hits) as heavy,
    ):
        await nacos.naming.register_instance("orders", "127.0.0.1", light, weight=1)
        await nacos.naming.register_instance("orders", "127.0.0.1", heavy, weight=3)
        reads = ("/list", "ServiceQueryRequest", "SubscribeServiceRequest")  # HTTP or gRPC
        nacos.add_event_hook(
            lambda e: (
                lists.append(e.kind)
                if e.kind == "request" and any(r in str(e.attrs.get("path")) for r in reads)
                else None
            )
        )
        async with ServiceSession(nacos, rng=random.Random(7)) as http:
            async with http.get("http://orders/api/x?q=1") as resp:
                assert await resp.json() == {
                    "instance": hits.most_common(1)[0][0],
                    "path": "/api/x",
                }
            reads_for_the_first_call = len(lists)
            for _ in range(399):
                resp = await http.get("http://orders/api/x")
                resp.release()
            reads_for_all_calls = len(lists)
    assert 1 <= reads_for_the_first_call <= 2  # the first read, and the watch's own first poll
    assert reads_for_all_calls <= 2  # the next 399 calls asked Nacos nothing
    assert 70 <= hits["light"] <= 130 and hits["light"] + hits["heavy"] == 400


async def test_a_refused_instance_is_set_aside_for_the_cooldown() -> None:
    hits: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    clock = FakeClock()
    dead = refused_port()
    async with (
        NacosDevServer(auth=False) as server,
        NacosClient(server.address) as nacos,
        http_instance("alive", hits) as alive,
        counting_session(attempts) as session,
    ):
        await nacos.naming.register_instance("orders", "127.0.0.1", dead, weight=100)
        await nacos.naming.register_instance("orders", "127.0.0.1", alive, weight=1)
        async with ServiceSession(nacos, session=session, cooldown=30, clock=clock,
                                  rng=random.Random(1)) as http:  # fmt: skip
            for _ in range(20):
                async with http.get("http://orders/") as resp:
                    assert (await resp.json())["instance"] == "alive"
            assert attempts[dead] == 1 and attempts[alive] == 20  # tried once, then set aside
            await clock.advance(29)
            (await http.get("http://orders/")).release()
            assert attempts[dead] == 1
            await clock.advance(1)  # the cooldown is over: the heavy weight wins again
            (await http.get("http://orders/")).release()
            assert attempts[dead] == 2 and hits["alive"] == 22
        assert not session.closed  # a session given by the caller stays open


async def test_after_a_broken_connection_only_idempotent_methods_are_tried_again() -> None:
    hits: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    async with (
        NacosDevServer(auth=False) as server,
        NacosClient(server.address) as nacos,
        http_instance("alive", hits) as alive,
        hang_up_after_request() as breaker,
        counting_session(attempts) as session,
    ):
        await nacos.naming.register_instance("orders", "127.0.0.1", breaker, weight=100)
        await nacos.naming.register_instance("orders", "127.0.0.1", alive, weight=0.01)
        async with ServiceSession(nacos, session=session, rng=random.Random(3)) as http:
            with pytest.raises(NacosServiceUnavailableError, match="not tried again"):
                await http.post("http://orders/pay", json={"amount": 1})
            assert attempts == {breaker: 1} and hits["alive"] == 0
            async with ServiceSession(nacos, session=session, rng=random.Random(3)) as fresh:
                async with fresh.get("http://orders/") as resp:  # breaker first, then alive
                    assert (await resp.json())["instance"] == "alive"
            assert attempts[breaker] == 2


async def test_no_instance_all_refused_timeouts_and_bad_urls() -> None:
    hits: Counter[str] = Counter()
    async with (
        NacosDevServer(auth=False) as server,
        NacosClient(server.address) as nacos,
        http_instance("slow", hits) as slow,
    ):
        async with ServiceSession(nacos) as http:
            with pytest.raises(
                NacosNotFoundError, match="no healthy instance of DEFAULT_GROUP@@nobody"
            ):
                await http.get("http://nobody/")
            for port in (refused_port(), refused_port()):
                await nacos.naming.register_instance("down", "127.0.0.1", port)
            with pytest.raises(NacosServiceUnavailableError, match=r"tried 127\.0\.0\.1:\d+, 127"):
                await http.get("http://down/")
            await nacos.naming.register_instance("slow", "127.0.0.1", slow)
            with pytest.raises(NacosTimeoutError, match="did not answer in time"):
                await http.get("http://slow/slow", timeout=aiohttp.ClientTimeout(sock_read=0.05))
            assert hits["slow"] == 1  # never sent twice
            for bad in ("http://orders:8080/", "ftp://orders/", "/relative"):
                with pytest.raises(ValueError, match="http\\(s\\)://SERVICE/path"):
                    await http.get(bad)
    with pytest.raises(ValueError, match="attempts must be an integer >= 1, got 0"):
        ServiceSession(nacos, attempts=0)
    with pytest.raises(ValueError, match="cooldown must be >= 0 seconds, got '30'"):
        ServiceSession(nacos, cooldown="30")  # type: ignore[arg-type]


async def test_the_watched_list_follows_the_service() -> None:
    hits: Counter[str] = Counter()
    async with (
        NacosDevServer(auth=False) as server,
        NacosClient(server.address, naming_poll_interval=0.05) as nacos,
        http_instance("old", hits) as old,
        http_instance("new", hits) as new,
    ):
        await nacos.naming.register_instance("orders", "127.0.0.1", old)
        async with ServiceSession(nacos) as http:
            async with http.get("http://orders/") as resp:
                assert (await resp.json())["instance"] == "old"
            await nacos.naming.register_instance("orders", "127.0.0.1", new)
            await nacos.naming.deregister_instance("orders", "127.0.0.1", old)
            with anyio.fail_after(10):  # the watch polls the server; wait for its next list
                while [i.port for i in await http.instances("orders")] != [new]:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            async with http.get("http://orders/") as resp:
                assert (await resp.json())["instance"] == "new"
