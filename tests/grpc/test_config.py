"""Config over gRPC on every flavor: reads, writes, CAS, watching, snapshots and failover files."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nacos_async import NacosConflictError, NacosConnectionError, NacosNotFoundError
from nacos_async.config.models import md5_hex
from nacos_async.testing import FLAVORS, Flavor, NacosDevServer
from tests.grpc.helpers import Recorder, config_connections, eventually, grpc_client

pytest.importorskip("grpclib")


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_get_publish_cas_and_delete(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server, grpc_client(server) as client:
        with pytest.raises(NacosNotFoundError):
            await client.config.get("app.yaml")
        assert await client.config.get("app.yaml", default=None) is None
        await client.config.publish("app.yaml", "a: 1", type="yaml")
        item = await client.config.get_with_meta("app.yaml")
        assert (item.content, item.md5, item.type) == ("a: 1", md5_hex("a: 1"), "yaml")
        assert item.last_modified is not None and item.source == "server"
        await client.config.publish("app.yaml", "a: 2", type="yaml", cas_md5=item.md5)
        with pytest.raises(NacosConflictError) as info:
            await client.config.publish("app.yaml", "a: 3", type="yaml", cas_md5=item.md5)
        assert info.value.path == "ConfigPublishRequest"
        assert server.get_config("app.yaml") == "a: 2"
        await client.config.delete("app.yaml")
        assert server.get_config("app.yaml") is None
        assert not any("/cs/" in route for route in server.stats.requests)  # no HTTP config call


@pytest.mark.parametrize("flavor", ["2.x", "3.2"])
async def test_namespaces_and_groups_are_kept_apart(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor, auth=False) as server:
        async with grpc_client(server) as client:
            await client.config.publish("app", "public")
            await client.config.publish("app", "team", namespace="team-a")
            await client.config.publish("app", "group", group="G")
            assert server.get_config("app", namespace="team-a") == "team"
            assert server.get_config("app", group="G") == "group"
            assert await client.config.get("app", namespace="team-a") == "team"
            watched = {ns: Recorder() for ns in ("public", "team-a")}
            for ns, recorder in watched.items():
                await client.config.add_listener("app", recorder, namespace=ns)
            server.publish_config("app", "team 2", namespace="team-a")
            await watched["team-a"].until("team 2")
            server.publish_config("app", "public 2")
            await watched["public"].until("public 2")
            assert watched["public"].seen == ["public 2"]
            assert watched["team-a"].seen == ["team 2"]


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_fifty_quick_publishes_end_on_the_last_and_deletion_yields_none(
    flavor: Flavor,
) -> None:
    published = {f"value {i}" for i in range(50)}
    async with NacosDevServer(flavor=flavor) as server, grpc_client(server) as client:
        await client.config.publish("app", "start")
        seen: list[str | None] = []
        done = asyncio.Event()

        async def consume() -> None:
            async for change in client.config.watch("app"):
                seen.append(change.content)
                if change.content is None:
                    done.set()

        consumer = asyncio.ensure_future(consume())
        await server.grpc.wait_until(lambda: any(c.listens for c in server.grpc.connections))
        for i in range(50):
            await client.config.publish("app", f"value {i}")
        await eventually(lambda: bool(seen) and seen[-1] == "value 49")
        await client.config.delete("app")
        await asyncio.wait_for(done.wait(), 10)
        consumer.cancel()
        assert client.health().services["config"]["mode"] == "push"
    assert set(seen[:-1]) <= published  # never a value nobody published
    assert seen[-1] is None
    assert seen.index("value 49") == len(seen) - 2  # in order: nothing older after the last


async def test_a_thousand_watched_keys_are_listened_in_one_request_and_pushed_each() -> None:
    async with NacosDevServer(auth=False, flavor="3.2") as server:
        names = [f"key-{i}" for i in range(1000)]
        for name in names:
            server.publish_config(name, "v0")
        async with grpc_client(server) as client:
            recorder = Recorder()
            await asyncio.gather(*(client.config.add_listener(n, recorder) for n in names))
            await server.grpc.wait_until(
                lambda: sum(len(c.listens) for c in server.grpc.connections) == 1000, within=30
            )
            assert server.stats.grpc_requests["ConfigBatchListenRequest"] <= 5
            queries = server.stats.grpc_requests["ConfigQueryRequest"]
            for name in names[::100]:
                server.publish_config(name, "v1")
            await eventually(lambda: len(recorder.seen) == 10)
            assert recorder.seen == ["v1"] * 10
            assert server.stats.grpc_requests["ConfigQueryRequest"] == queries + 10


async def test_a_removed_listener_stops_the_listen_on_the_server() -> None:
    async with NacosDevServer(auth=False) as server, grpc_client(server) as client:
        recorder = Recorder()
        await client.config.add_listener("a", recorder)
        await client.config.add_listener("b", recorder)
        [connection] = config_connections(server)
        await server.grpc.wait_until(lambda: len(connection.listens) == 2)
        client.config.remove_listener("a", recorder)
        server.publish_config("b", "b1")  # a turn of the watcher
        await recorder.until("b1")
        await server.grpc.wait_until(lambda: len(connection.listens) == 1)
        assert [key[2] for key in connection.listens] == ["b"]


async def test_the_snapshot_is_served_at_once_when_no_server_answers(tmp_path: Path) -> None:
    async with NacosDevServer() as server:
        async with grpc_client(server, snapshot_dir=str(tmp_path), request_timeout=10) as client:
            await client.config.publish("app", "from the server")
            assert (await client.config.get_with_meta("app")).source == "server"
            await server.pause()
            started = time.monotonic()
            item = await client.config.get_with_meta("app")
            assert time.monotonic() - started < 5  # a few connection attempts, not the deadline
            assert (item.content, item.source) == ("from the server", "snapshot")
            with pytest.raises(NacosConnectionError):  # never read: no snapshot to serve
                await client.config.get("other")
            await server.resume()
            assert (await client.config.get_with_meta("app")).source == "server"


async def test_the_failover_directory_wins_over_the_server(tmp_path: Path) -> None:
    (tmp_path / "public" / "DEFAULT_GROUP").mkdir(parents=True)
    (tmp_path / "public" / "DEFAULT_GROUP" / "app").write_text("from the file")
    async with NacosDevServer() as server:
        server.publish_config("app", "from the server")
        async with grpc_client(server, failover_dir=str(tmp_path)) as client:
            item = await client.config.get_with_meta("app")
            assert (item.content, item.source) == ("from the file", "failover")
            assert server.stats.grpc_requests["ConfigQueryRequest"] == 0
