"""Watching configs over HTTP: latency, ordering, deletion, faults, batching, MD5-poll budget.

(Watching over gRPC push is tested in tests/grpc.)"""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from nacos_async import NacosClient, NacosConnectionError
from nacos_async.config.models import ConfigChange, md5_hex
from nacos_async.response import Response
from nacos_async.testing import (
    FLAVORS,
    FakeClock,
    Flavor,
    HttpRequest,
    MockTransport,
    NacosDevServer,
    answer,
    flavor_traits,
    form_of,
)


def client_for(server: NacosDevServer, **options: Any) -> NacosClient:
    options.setdefault("transport", "http")  # long-poll and MD5 polling are what is tested
    options.setdefault("config_poll_interval", 0.05)
    options.setdefault("relogin_min_interval", 0)
    return NacosClient(server.address, username="nacos", password="nacos", **options)


class Collector:
    """Consumes a watch in the background and lets the test await a value."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []
        self._changed = anyio.Event()

    async def consume(self, client: NacosClient, data_id: str) -> None:
        async for change in client.config.watch(data_id):
            self.seen.append(change.content)
            self._changed.set()

    async def until(self, content: str | None, within: float = 10.0) -> None:
        with anyio.fail_after(within):
            while not self.seen or self.seen[-1] != content:
                await self._changed.wait()
                self._changed = anyio.Event()


@pytest.mark.parametrize("flavor", ["2.x", "3.1"])
async def test_a_watcher_sees_a_publish_within_200_ms(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server, client_for(server) as client:
        await client.config.publish("app", "v0")
        collector = Collector()
        async with anyio.create_task_group() as tg:
            tg.start_soon(collector.consume, client, "app")
            await server.wait_for_listeners(1)
            started = time.perf_counter()
            await client.config.publish("app", "v1")
            await collector.until("v1")
            elapsed = time.perf_counter() - started
            tg.cancel_scope.cancel()
    assert collector.seen == ["v1"]
    assert elapsed < 0.2, elapsed


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_fifty_quick_publishes_end_on_the_last_and_deletion_yields_none(
    flavor: Flavor,
) -> None:
    published = {f"value {i}" for i in range(50)}
    async with NacosDevServer(flavor=flavor) as server, client_for(server) as client:
        await client.config.publish("app", "start")
        collector = Collector()
        async with anyio.create_task_group() as tg:
            tg.start_soon(collector.consume, client, "app")
            for i in range(50):
                await client.config.publish("app", f"value {i}")
            await collector.until("value 49")
            await client.config.delete("app")
            await collector.until(None)
            tg.cancel_scope.cancel()
        # regression: 3.2 has no HTTP listener; the watcher must switch to MD5 polling
        mode = client.health().services["config"]["mode"]
        assert mode == ("md5" if flavor_traits(flavor).v1_removed else "long-poll")
    assert set(collector.seen[:-1]) <= published  # never a value nobody published
    assert collector.seen[-1] is None


@pytest.mark.parametrize("flavor", ["2.x", "3.2", "3.3"])
async def test_a_watcher_converges_through_faults(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor, long_poll_min_hold=0.5) as server:
        async with client_for(server, long_poll_timeout=10, retry_backoff=0.02) as client:
            await client.config.publish("app", "v0")
            collector = Collector()
            async with anyio.create_task_group() as tg:
                tg.start_soon(collector.consume, client, "app")
                if not server.traits.v1_removed:
                    await server.wait_for_listeners(1)
                server.rotate_secret()
                await client.config.publish("app", "after rotation")
                await collector.until("after rotation")
                server.expire_tokens()
                await client.config.publish("app", "after expiry")
                await collector.until("after expiry")
                server.fail_next(10, 503)  # the watcher's own requests get them
                server.publish_config("app", "after 503s")
                await collector.until("after 503s", within=20)
                await server.pause()
                server.publish_config("app", "published while paused")
                await anyio.sleep(1.0)  # the outage itself: the watcher fails and backs off
                await server.resume()
                await collector.until("published while paused", within=20)
                await server.restart(keep_state=True)
                server.publish_config("app", "after restart")
                await collector.until("after restart", within=20)
                tg.cancel_scope.cancel()
    assert client.stats.forced_logins >= 2


class MockConfigServer:
    """Configs behind ``MockTransport``: v3 reads, and either a v1 listener that holds every
    long-poll (2.x) or none at all (3.2, so the watcher polls MD5s)."""

    def __init__(self, *, listener: bool) -> None:
        self.configs: dict[str, str] = {}
        self.listener = listener
        self.long_polls: list[int] = []  # keys per long-poll request
        self.reads: list[float] = []
        self.clock = FakeClock(start=0.0)
        self.down = False
        self.transport = MockTransport(self.handle)

    def client(self, **settings: Any) -> NacosClient:
        return NacosClient("nacos.test:8848", transport=self.transport, clock=self.clock,
                           **settings)  # fmt: skip

    async def handle(self, request: HttpRequest) -> Response:
        if self.down:
            raise NacosConnectionError("refused", server=request.server)
        if request.path == "/v3/client/cs/config":
            self.reads.append(self.clock.now())
            content = self.configs.get((request.params or {})["dataId"])
            if content is None:
                return answer(json={"code": 20004, "message": "resource not found"})
            return answer(json={"code": 0, "data": {"content": content, "md5": md5_hex(content)}})
        if request.path == "/v1/cs/configs/listener" and self.listener:
            self.long_polls.append(form_of(request)["Listening-Configs"].count("\x01"))
            if (request.headers or {}).get("Long-Pulling-Timeout-No-Hangup") == "true":
                return answer(text="")  # keys were just added: answer at once
            await anyio.Event().wait()  # held: nothing changes
        return answer(404, json={"status": 404, "error": "Not Found", "path": request.path})


async def test_five_thousand_keys_long_poll_in_batches_of_at_most_3000() -> None:
    server = MockConfigServer(listener=True)
    async with server.client() as client:
        for i in range(5000):
            server.configs[f"key-{i}"] = "same"
            await client.config.add_listener(f"key-{i}", lambda _: None)
        await server.clock.settle()
        assert client.health().services["config"]["mode"] == "long-poll"
        # the latest turn asks about every key, in two requests
        assert sorted(server.long_polls[-2:]) == [2000, 3000]


async def test_md5_polling_stays_within_its_request_budget() -> None:
    server = MockConfigServer(listener=False)
    settings = {"config_poll_budget": 50, "config_poll_interval": 5}
    async with server.client(**settings) as client:
        for i in range(5000):
            server.configs[f"key-{i}"] = "same"
            await client.config.add_listener(f"key-{i}", lambda _: None)
        server.reads.clear()
        while server.clock.now() < 300:
            await server.clock.advance(0.5)
        assert client.health().services["config"]["mode"] == "md5"
    rate = len(server.reads) / 300
    assert 45 <= rate <= 50.5, rate  # the budget, not 5,000 keys / 5 s
    small = MockConfigServer(listener=False)
    async with small.client(**settings) as client:
        for i in range(10):
            small.configs[f"key-{i}"] = "same"
            await client.config.add_listener(f"key-{i}", lambda _: None)
        small.reads.clear()
        while small.clock.now() < 100:
            await small.clock.advance(0.5)
    assert len(small.reads) == pytest.approx(10 * 100 / 5, abs=10)  # every key once per interval


async def test_a_raising_listener_does_not_stop_the_others() -> None:
    server = MockConfigServer(listener=False)
    got: list[str | None] = []

    def broken(_: ConfigChange) -> None:
        raise RuntimeError("listener bug")

    async def fine(change: ConfigChange) -> None:
        got.append(change.content)

    async with server.client(config_poll_interval=1) as client:
        server.configs["app"] = "old"
        await client.config.add_listener("app", broken)
        await client.config.add_listener("app", fine)
        server.configs["app"] = "new"
        await server.clock.advance(2)
        del server.configs["app"]
        await server.clock.advance(2)
    assert got == ["new", None]


async def test_initial_yields_the_current_value_first() -> None:
    async with NacosDevServer() as server, client_for(server) as client:
        await client.config.publish("app", "now")
        changes = client.config.watch("app", initial=True)
        first = await changes.__anext__()
        assert (first.content, first.md5) == ("now", md5_hex("now"))
        await changes.aclose()
        # the last consumer left: nothing watched any more
        assert client.health().services["config"]["watched"] == 0


async def test_a_burst_of_changes_is_read_at_once_and_each_delivered() -> None:
    """Every changed key is read concurrently: each read here waits until all are in flight, so
    reading one key after another would never finish."""
    keys = [f"key-{i}" for i in range(5)]
    configs = dict.fromkeys(keys, "old")
    changed, all_reading = anyio.Event(), anyio.Event()
    reading = reported = 0

    async def handle(request: HttpRequest) -> Response:
        nonlocal reading, reported
        if request.path == "/v3/client/cs/config":
            content = configs[(request.params or {})["dataId"]]
            if content == "new":
                reading += 1
                if reading == len(keys):
                    all_reading.set()
                await all_reading.wait()
            return answer(json={"code": 0, "data": {"content": content, "md5": md5_hex(content)}})
        if (request.headers or {}).get("Long-Pulling-Timeout-No-Hangup") == "true":
            return answer(text="")
        if not reported:
            await changed.wait()
            reported += 1
            return answer(text="".join(f"{key}%02DEFAULT_GROUP%01" for key in keys))
        await anyio.Event().wait()  # held: nothing else changes
        raise AssertionError("unreachable")

    delivered: list[str] = []
    every = anyio.Event()

    def listener(change: ConfigChange) -> None:
        delivered.append(change.data_id)
        if len(delivered) == len(keys):
            every.set()

    client = NacosClient("nacos.test:8848", transport=MockTransport(handle))
    async with client:
        for key in keys:
            await client.config.add_listener(key, listener)
        configs.update(dict.fromkeys(keys, "new"))
        changed.set()
        with anyio.fail_after(10):
            await every.wait()
    assert sorted(delivered) == keys


async def test_health_says_how_long_the_watcher_has_been_failing() -> None:
    server = MockConfigServer(listener=False)
    async with server.client(config_poll_interval=1, max_attempts=1) as client:
        server.configs["app"] = "v1"
        await client.config.add_listener("app", lambda _: None)
        await server.clock.advance(2)
        assert client.health().services["config"]["failing_for"] is None
        server.down = True
        for _ in range(60):
            await server.clock.advance(1)
        part = client.health().services["config"]
        assert part["failing_turns"] >= 3 and part["failing_for"] >= 55
        assert part["problems"] and not client.health().ok
        server.down = False
        for _ in range(40):
            await server.clock.advance(1)
        assert client.health().services["config"]["failing_for"] is None
