"""Watching configs: latency, ordering, deletion, faults, batching and the MD5-poll budget."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import anyio
import pytest

from nacos_async import NacosClient
from nacos_async.config.models import ConfigChange, ConfigItem, ConfigKey, md5_hex
from nacos_async.config.watcher import ConfigWatcher, Watched
from nacos_async.testing import FLAVORS, FakeClock, Flavor, NacosDevServer, flavor_traits


def client_for(server: NacosDevServer, **options: Any) -> NacosClient:
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
        md5 = flavor_traits(flavor).v1_removed
        assert client.config._watcher.mode == ("md5" if md5 else "long-poll")
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


class RecordingProtocol:
    """Stands in for ConfigProtocol: records long-poll batches and reads."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.batches: list[int] = []
        self.reads: list[float] = []

    async def listen(
        self, probes: Sequence[tuple[ConfigKey, str]], *, hold_ms: int, no_hangup: bool
    ) -> set[ConfigKey]:
        self.batches.append(len(probes))
        return set()

    async def get(self, key: ConfigKey) -> ConfigItem | None:
        self.reads.append(self.clock.now())
        return ConfigItem(content="same", md5=md5_hex("same"))


async def watcher_with_keys(
    count: int, **settings: Any
) -> tuple[ConfigWatcher, RecordingProtocol, FakeClock, NacosClient]:
    clock = FakeClock(start=0.0)
    client = NacosClient("127.0.0.1:1", clock=clock, **settings)
    protocol = RecordingProtocol(clock)
    watcher = ConfigWatcher(protocol, client, None)  # type: ignore[arg-type]
    for i in range(count):
        key = ConfigKey("public", "G", f"key-{i}")
        watcher.keys[key] = Watched(key, md5=md5_hex("same"), content="same", fresh=False)
    return watcher, protocol, clock, client


async def test_five_thousand_keys_long_poll_in_batches_of_at_most_3000() -> None:
    watcher, protocol, _, _ = await watcher_with_keys(5000)
    assert await watcher._long_poll() == 0.0
    assert sorted(protocol.batches) == [2000, 3000]


async def test_md5_polling_stays_within_its_request_budget() -> None:
    watcher, protocol, clock, _ = await watcher_with_keys(
        5000, config_poll_budget=50, config_poll_interval=5
    )
    watcher.mode = "md5"
    while clock.now() < 300:
        await clock.advance(await watcher.step())
    rate = len(protocol.reads) / clock.now()
    assert 45 <= rate <= 50.5, rate  # the budget, not 5,000 keys / 5 s
    small, few, small_clock, _ = await watcher_with_keys(
        10, config_poll_budget=50, config_poll_interval=5
    )
    small.mode = "md5"
    while small_clock.now() < 100:
        await small_clock.advance(await small.step())
    assert len(few.reads) == pytest.approx(10 * 100 / 5, abs=10)  # every key once per interval


async def test_a_raising_listener_does_not_stop_the_others() -> None:
    watcher, _, _, _ = await watcher_with_keys(1)
    watched = next(iter(watcher.keys.values()))
    got: list[ConfigChange] = []

    def broken(_: ConfigChange) -> None:
        raise RuntimeError("listener bug")

    async def fine(change: ConfigChange) -> None:
        got.append(change)

    watched.listeners += [broken, fine]
    await watcher.deliver(watched, ConfigItem(content="new", md5=md5_hex("new")))
    await watcher.deliver(watched, None)
    assert [c.content for c in got] == ["new", None]


async def test_initial_yields_the_current_value_first() -> None:
    async with NacosDevServer() as server, client_for(server) as client:
        await client.config.publish("app", "now")
        changes = client.config.watch("app", initial=True)
        first = await changes.__anext__()
        assert (first.content, first.md5) == ("now", md5_hex("now"))
        await changes.aclose()
        assert client.config._watcher.keys == {}  # the last consumer left: nothing polled
