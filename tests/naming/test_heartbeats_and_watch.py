"""Heartbeats and polled watches over HTTP, on a fake clock shared by the client and the dev
server (over gRPC: no heartbeats, pushed watches; tests/grpc/test_naming.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from nacos_async import NacosClient
from nacos_async.naming import Instance
from nacos_async.testing import FLAVORS, FakeClock, Flavor, NacosDevServer

from .helpers import EventCounter


def server_instances(server: NacosDevServer, service: str = "orders") -> list[tuple[str, bool]]:
    for svc in server.naming.list_services("public", "DEFAULT_GROUP"):
        if svc.name == service:
            return sorted((i.ip, i.healthy) for i in svc.instances.values())
    return []


@contextlib.asynccontextmanager
async def beating(
    flavor: Flavor, **settings: Any
) -> AsyncIterator[tuple[NacosDevServer, NacosClient, FakeClock, EventCounter]]:
    """A dev server and an HTTP client (logged in) on one fake clock; the client's heartbeats
    counted from the start."""
    clock = FakeClock()
    async with NacosDevServer(flavor=flavor, clock=clock) as server:
        async with NacosClient(server.address, transport="http", username="nacos",
                               password="nacos", clock=clock, **settings) as client:  # fmt: skip
            yield server, client, clock, EventCounter(client, "heartbeat")


async def beat_for(
    clock: FakeClock, beats: EventCounter, seconds: float, *, every: float = 5.0
) -> None:
    """Move time forward interval by interval, waiting each time for the beats to be sent."""
    for _ in range(int(seconds // every)):
        expected = beats.count + 1
        await clock.advance(every)
        await beats.wait_for(expected)


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_heartbeats_keep_an_instance_past_the_server_timeouts(flavor: Flavor) -> None:
    async with beating(flavor) as (server, client, clock, beats):
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        # a neighbour registered once, with no heartbeats, shows the server clock at work
        path = "/v3/client/ns/instance" if server.traits.v1_removed else "/v1/ns/instance"
        await client.request("POST", path, data={"serviceName": "orders", "ip": "10.0.0.9",
                                                 "port": "1"})  # fmt: skip
        await beat_for(clock, beats, 20)
        assert server_instances(server) == [("10.0.0.5", True), ("10.0.0.9", False)]
        await beat_for(clock, beats, 20)  # 40 s: past the 30 s removal timeout
        assert server_instances(server) == [("10.0.0.5", True)]
        assert client.stats.heartbeats == beats.count >= 8


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_forgotten_instances_are_back_within_one_beat(flavor: Flavor) -> None:
    async with beating(flavor) as (server, client, clock, beats):
        for last in range(1, 6):
            await client.naming.register_instance("orders", f"10.0.0.{last}", 8080)
        server.forget_instances()
        assert server_instances(server) == []
        await clock.advance(5.0)
        await beats.wait_for(5)
        assert [ip for ip, _ in server_instances(server)] == [f"10.0.0.{i}" for i in range(1, 6)]


async def test_instances_come_back_after_a_restart_that_loses_state() -> None:
    async with beating("3.2", relogin_min_interval=0) as (server, client, clock, beats):
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        await server.restart(keep_state=False)
        await clock.advance(5.0)
        await beats.wait_for(1)
        assert server_instances(server) == [("10.0.0.5", True)]
        assert client.stats.reregistrations == 1


async def test_heartbeats_survive_a_burst_of_503s() -> None:
    clock = FakeClock()
    async with NacosDevServer(flavor="2.x", clock=clock) as server:
        async with NacosClient(server.address, transport="http", username="nacos", password="nacos", clock=clock,
                               max_attempts=1) as client:  # fmt: skip
            attempts = EventCounter(client, "heartbeat", "heartbeat_failed")
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            server.fail_next(3, 503)
            for expected in range(1, 5):  # each advance covers one retry delay: one attempt
                await clock.advance(5.0)
                await attempts.wait_for(expected)
            assert client.stats.heartbeat_failures == 3
            assert client.stats.heartbeats >= 1 and client.stats.reregistrations == 1
            assert server_instances(server) == [("10.0.0.5", True)]


async def test_watch_emits_once_per_real_change_and_never_an_empty_list() -> None:
    clock = FakeClock()
    async with NacosDevServer(flavor="3.1", clock=clock, auth=False) as server:
        async with (
            NacosClient(server.address, transport="http", clock=clock) as client,
            NacosClient(server.address, transport="http") as other,
        ):
            polls = EventCounter(client, "request")
            seen: list[list[str]] = []
            got = anyio.Event()

            async def consume() -> None:
                nonlocal got
                async for hosts in client.naming.watch("orders", initial=True):
                    seen.append([h.ip for h in hosts])
                    got.set()

            await other.naming.register_instance("orders", "10.0.0.1", 8080, ephemeral=False)
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                with anyio.fail_after(5):
                    await got.wait()
                assert seen == [["10.0.0.1"]]
                for _ in range(3):  # no change: no emission
                    expected = polls.count + 1
                    await clock.advance(10.0)
                    await polls.wait_for(expected)
                assert seen == [["10.0.0.1"]]
                await other.naming.register_instance("orders", "10.0.0.2", 8080, ephemeral=False)
                got = anyio.Event()
                await clock.advance(10.0)
                with anyio.fail_after(5):
                    await got.wait()
                assert seen[-1] == ["10.0.0.1", "10.0.0.2"]
                server.forget_instances()  # looks like an outage: keep the last list
                for _ in range(2):
                    expected = polls.count + 1
                    await clock.advance(10.0)
                    await polls.wait_for(expected)
                assert seen == [["10.0.0.1"], ["10.0.0.1", "10.0.0.2"]]
                tg.cancel_scope.cancel()


async def test_watch_reports_an_empty_list_when_protection_is_off() -> None:
    clock = FakeClock()
    async with NacosDevServer(flavor="2.x", clock=clock, auth=False) as server:
        async with NacosClient(
            server.address, transport="http", clock=clock, push_empty_protection=False
        ) as client:
            seen: list[list[Instance]] = []
            changed = EventCounter(client, "service_changed")
            await client.naming.subscribe("orders", seen.append)
            await client.request(
                "POST",
                "/v1/ns/instance",
                params={"serviceName": "orders", "ip": "10.0.0.1", "port": "80"},
            )
            await clock.advance(10.0)
            await changed.wait_for(1)
            server.forget_instances()
            await clock.advance(10.0)
            await changed.wait_for(2)
            assert [len(hosts) for hosts in seen] == [1, 0]


async def test_watch_iterators_end_when_the_client_closes() -> None:
    async with NacosDevServer(auth=False) as server:
        client = NacosClient(server.address, transport="http")
        await client.start()
        await client.naming.register_instance("orders", "10.0.0.1", 8080)
        lists: list[int] = []
        first = anyio.Event()

        async def consume() -> None:
            async for hosts in client.naming.watch("orders", initial=True):
                lists.append(len(hosts))
                first.set()

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                await first.wait()
                await client.close()
        assert lists == [1]


async def test_a_watch_without_initial_yields_changes_only_and_subscribe_is_awaited() -> None:
    clock = FakeClock()
    async with NacosDevServer(flavor="2.x", clock=clock, auth=False) as server:
        async with NacosClient(server.address, transport="http", clock=clock) as client:
            await client.naming.register_instance("orders", "10.0.0.1", 8080)
            heard: list[int] = []
            await client.naming.subscribe("orders", lambda hosts: heard.append(len(hosts)))
            changes = client.naming.watch("orders")
            nxt = asyncio.ensure_future(changes.__anext__())
            await clock.settle()
            assert not nxt.done() and heard == []  # the current list is the baseline, no change
            await client.naming.register_instance("orders", "10.0.0.2", 8080)
            await clock.advance(10.0)
            with anyio.fail_after(5):
                assert len(await nxt) == 2
            assert heard == [2]
            await changes.aclose()


async def test_light_beats_after_the_first_and_20404_re_registers() -> None:
    async with beating("2.x") as (server, client, clock, beats):
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        await clock.advance(5.0)
        await beats.wait_for(1)  # a full beat; the server answers lightBeatEnabled
        server.forget_instances()
        await clock.advance(5.0)
        await beats.wait_for(2)  # a light beat: 20404, so registered again at once
        assert client.stats.reregistrations == 1
        assert server_instances(server) == [("10.0.0.5", True)]


async def test_an_instance_added_while_the_scheduler_sleeps_long_beats_on_time() -> None:
    async with beating("2.x") as (_, client, clock, beats):
        slow = {"preserved.heart.beat.interval": "60000"}  # next beat in a minute
        await client.naming.register_instance("orders", "10.0.0.1", 8080, metadata=slow)
        await clock.settle()  # the scheduler now sleeps until that beat
        await client.naming.register_instance("orders", "10.0.0.2", 8080)  # every 5 s
        await clock.settle()
        await clock.advance(5.0)
        await beats.wait_for(1)
        await clock.advance(5.0)
        await beats.wait_for(2)
        await client.naming.deregister_instance("orders", "10.0.0.2", 8080)
        await clock.advance(50.0)  # the slow one's first beat; the removed one's none
        await beats.wait_for(3)
        await clock.advance(5.0)
        await clock.settle()
        assert beats.count == 3


async def test_beats_due_moments_apart_go_out_together_but_never_far_early() -> None:
    """A turn also sends the beats due within 50 ms, and 1 % of their interval, of now."""
    async with beating("2.x") as (_, client, clock, beats):
        await client.naming.register_instance("orders", "10.0.0.1", 8080)  # due at 5.00
        await clock.advance(0.03)
        await client.naming.register_instance("orders", "10.0.0.2", 8080)  # due at 5.03
        await clock.advance(4.97)
        await beats.wait_for(2)  # both at 5.00
        each_second = {"preserved.heart.beat.interval": "1000"}
        await client.naming.register_instance("fast", "10.0.0.3", 8080, metadata=each_second)
        await clock.advance(0.03)
        await client.naming.register_instance("fast", "10.0.0.4", 8080, metadata=each_second)
        await clock.advance(0.97)  # 6.00: the first is due, the second in 30 ms
        await beats.wait_for(3)
        await clock.settle()
        assert beats.count == 3  # 30 ms is more than 1 % of one second: not yet
        await clock.advance(0.03)
        await beats.wait_for(4)


@pytest.mark.parametrize("interval", [0.2, 2.0])
async def test_the_heartbeat_interval_setting_applies_to_every_v3_beat(interval: float) -> None:
    """v3 beat answers name no interval: the setting holds for every beat, not just the first
    (and a short one runs)."""
    clock = FakeClock()
    async with NacosDevServer(flavor="3.2", clock=clock, auth=False) as server:
        async with NacosClient(
            server.address, transport="http", clock=clock, heartbeat_interval=interval
        ) as client:
            beats = EventCounter(client, "heartbeat")
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            await clock.settle()
            for n in range(1, 6):
                await clock.advance(interval)
                await beats.wait_for(n)
            assert beats.count == 5  # one per interval, no more
            assert client.stats.heartbeat_failures == 0
