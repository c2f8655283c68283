"""Naming over gRPC: connection-bound instances, batch, persistent, queries, subscriptions."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from nacos_async.testing import FakeClock, NacosDevServer
from nacos_async.testing._naming_store import InstanceRecord

from ._client import RawClient, advance, connected

SVC = ("public", "DEFAULT_GROUP", "orders")


def req(type_: str = "registerInstance", **instance: Any) -> dict[str, Any]:
    inst = {"ip": "10.0.0.5", "port": 8080, "weight": 1.0, "metadata": {}, **instance}
    return {"namespace": "public", "serviceName": "orders", "groupName": "DEFAULT_GROUP",
            "type": type_, "instance": inst}  # fmt: skip


def sub(subscribe: bool = True) -> dict[str, Any]:
    return {"namespace": "public", "serviceName": "orders", "groupName": "DEFAULT_GROUP",
            "clusters": "", "subscribe": subscribe}  # fmt: skip


def hosts(server: NacosDevServer) -> list[tuple[str, int]]:
    service = server.naming.services.get(SVC)
    return sorted(service.instances) if service else []


@pytest.fixture
async def server() -> object:
    async with NacosDevServer(auth=False) as server:
        yield server


async def test_register_last_wins_and_deregister(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        answer = await client.ok("InstanceRequest", req(metadata={"v": "1"}, clusterName=""))
        assert (answer["type"], answer["success"]) == ("registerInstance", True)
        record = server.naming.services[SVC].instances[("10.0.0.5", 8080)]
        assert (record.cluster, record.metadata, record.owner) == ("DEFAULT", {"v": "1"},
                                                                   client.connection_id)  # fmt: skip
        await client.ok("InstanceRequest", req(ip="10.0.0.6"))  # one per service per connection
        assert hosts(server) == [("10.0.0.6", 8080)]
        answer = await client.ok("InstanceRequest", req("deregisterInstance", ip="any"))
        assert answer["type"] == "deregisterInstance"
        assert hosts(server) == []


async def test_register_needs_a_naming_connection(server: NacosDevServer) -> None:
    async with await connected(server, module="config") as client:
        kind, answer = await client.request("InstanceRequest", req())
        assert (kind, answer["resultCode"], answer["errorCode"]) == ("ErrorResponse", -401, -401)
        assert answer["message"] == (
            f"Client [{client.connection_id}] connection already disconnect, "
            "can't register ephemeral instance."
        )
        kind, answer = await client.request("InstanceRequest", req("deRegisterInstance"))
        assert (kind, answer["resultCode"], answer["errorCode"]) == ("ErrorResponse", 400, 400)
        assert answer["message"] == "Unsupported request type deRegisterInstance"
        _, answer = await client.request("InstanceRequest", req(port=70000))
        assert answer["message"] == (
            "Param check invalid:Param 'port' is illegal, the value should be between 0 and 65535."
        )
    assert hosts(server) == []


async def test_batch_replaces_the_connections_set(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        batch = {**req("batchRegisterInstance"), "instances": [
            {"ip": "10.0.0.1", "port": 1}, {"ip": "10.0.0.2", "port": 2}]}  # fmt: skip
        assert (await client.ok("BatchInstanceRequest", batch))["type"] == "batchRegisterInstance"
        assert hosts(server) == [("10.0.0.1", 1), ("10.0.0.2", 2)]
        batch["instances"] = [{"ip": "10.0.0.2", "port": 2}]  # how SDKs deregister from a batch
        await client.ok("BatchInstanceRequest", batch)
        assert hosts(server) == [("10.0.0.2", 2)]


async def test_instances_are_dropped_with_the_connection_and_subscribers_told(
    server: NacosDevServer, http: aiohttp.ClientSession
) -> None:
    owner = await connected(server)
    async with await connected(server) as watcher:
        await owner.ok("InstanceRequest", req())
        await watcher.ok("SubscribeServiceRequest", sub())
        first = (await watcher.next_push("NotifySubscriberRequest")).json()["serviceInfo"]
        assert [h["ip"] for h in first["hosts"]] == ["10.0.0.5"]
        params = {"serviceName": "orders"}
        async with http.get(f"{server.url}/v1/ns/instance/list", params=params) as resp:
            assert [h["ip"] for h in (await resp.json())["hosts"]] == ["10.0.0.5"]
        await owner.close()
        pushed = (await watcher.next_push("NotifySubscriberRequest")).json()["serviceInfo"]
        assert pushed["hosts"] == []
        assert pushed["lastRefTime"] > first["lastRefTime"]
        assert hosts(server) == []


async def test_http_instance_is_not_taken_by_a_closing_connection(server: NacosDevServer) -> None:
    client = await connected(server)
    await client.ok("InstanceRequest", req())
    server.naming.register(*SVC, InstanceRecord("10.0.0.5", 8080))  # HTTP re-registers it
    await client.close()
    await server.grpc.wait_until(lambda: not server.grpc.connections)
    assert hosts(server) == [("10.0.0.5", 8080)]


async def test_subscribe_answers_and_pushes_on_http_changes(
    server: NacosDevServer, http: aiohttp.ClientSession
) -> None:
    async with await connected(server) as client:
        answer = await client.ok("SubscribeServiceRequest", sub())
        info = answer["serviceInfo"]
        assert answer["message"] == "success"
        assert (info["name"], info["groupName"], info["hosts"], info["cacheMillis"]) == (
            "orders", "DEFAULT_GROUP", [], 10000)  # fmt: skip
        await client.next_push("NotifySubscriberRequest")  # the push after subscribing
        form = {"serviceName": "orders", "ip": "10.0.0.9", "port": "9"}
        async with http.post(f"{server.url}/v1/ns/instance", data=form) as resp:
            assert resp.status == 200
        push = (await client.next_push("NotifySubscriberRequest")).json()
        assert push["module"] == "naming"
        assert [(h["ip"], h["serviceName"]) for h in push["serviceInfo"]["hosts"]] == [
            ("10.0.0.9", "DEFAULT_GROUP@@orders")
        ]
        await client.ok("SubscribeServiceRequest", sub(subscribe=False))
        await server.grpc.wait_until(lambda: server.stats.grpc_pushes["acked"] == 2)
        server.naming.deregister(*SVC, "10.0.0.9", 9)
        await client.ok("HealthCheckRequest")
        assert client.no_push_queued()


async def test_subscribe_on_a_config_connection_is_a_no_op(server: NacosDevServer) -> None:
    async with await connected(server, module="config") as client:
        assert (await client.ok("SubscribeServiceRequest", sub()))["serviceInfo"]["hosts"] == []
        assert server.grpc.connections[0].subscriptions == {}


async def test_grpc_instances_never_expire_but_http_ones_do_and_subscribers_learn() -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        async with await connected(server) as client:
            await client.ok("InstanceRequest", req(ip="10.0.0.1"))
            server.naming.register(*SVC, InstanceRecord("10.0.0.2", 2))  # beats over HTTP
            await client.ok("SubscribeServiceRequest", sub())
            await client.next_push("NotifySubscriberRequest")
            await advance(clock, 16)  # HTTP instance unhealthy: the sweeper notices, a push
            push = (await client.next_push("NotifySubscriberRequest")).json()["serviceInfo"]
            health = {h["ip"]: h["healthy"] for h in push["hosts"]}
            assert health == {"10.0.0.1": True, "10.0.0.2": False}
            await advance(clock, 15)
            push = (await client.next_push("NotifySubscriberRequest")).json()["serviceInfo"]
            assert [h["ip"] for h in push["hosts"]] == ["10.0.0.1"]
            await advance(clock, 3600)
            assert hosts(server) == [("10.0.0.1", 8080)]


async def test_unacked_naming_push_is_retried_every_second_with_fresh_data() -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        async with await connected(server, auto_ack=False) as client:
            await client.ok("SubscribeServiceRequest", sub())
            first = await client.next_push("NotifySubscriberRequest")
            server.naming.register(*SVC, InstanceRecord("10.0.0.2", 2))
            newer = await client.next_push("NotifySubscriberRequest")  # supersedes the first
            await advance(clock, 5)
            await advance(clock, 1)
            retry = (await client.next_push("NotifySubscriberRequest")).json()
            assert retry["requestId"] not in (first.json()["requestId"], newer.json()["requestId"])
            assert [h["ip"] for h in retry["serviceInfo"]["hosts"]] == ["10.0.0.2"]
            assert server.stats.grpc_pushes["retried"] == 1


async def test_service_query_and_list(server: NacosDevServer) -> None:
    for name in ("a", "b", "c"):
        server.naming.register("public", "DEFAULT_GROUP", name, InstanceRecord("1.1.1.1", 1))
    server.naming.register("public", "DEFAULT_GROUP", "a",
                           InstanceRecord("1.1.1.2", 2, cluster="east", healthy=False))  # fmt: skip
    async with await connected(server) as client:
        query = {"namespace": "", "serviceName": "a", "groupName": "DEFAULT_GROUP", "cluster": ""}
        info = (await client.ok("ServiceQueryRequest", query))["serviceInfo"]
        assert sorted(h["ip"] for h in info["hosts"]) == ["1.1.1.1", "1.1.1.2"]
        only = {**query, "cluster": "east", "healthyOnly": False}
        assert [
            h["ip"] for h in (await client.ok("ServiceQueryRequest", only))["serviceInfo"]["hosts"]
        ] == ["1.1.1.2"]
        healthy = {**query, "healthyOnly": True}
        assert [
            h["ip"]
            for h in (await client.ok("ServiceQueryRequest", healthy))["serviceInfo"]["hosts"]
        ] == ["1.1.1.1"]
        page = {"namespace": "public", "groupName": "DEFAULT_GROUP", "pageNo": 2, "pageSize": 2}
        listed = await client.ok("ServiceListRequest", page)
        assert (listed["count"], listed["serviceNames"]) == (3, ["c"])


@pytest.mark.parametrize("flavor", ["2.x", "3.2"])
async def test_persistent_instance_outlives_the_connection(flavor: str) -> None:
    async with NacosDevServer(flavor=flavor, auth=False) as server:
        client = await connected(server)
        answer = await client.ok("PersistentInstanceRequest", req())
        assert answer["type"] == "registerInstance"
        await client.close()
        await server.grpc.wait_until(lambda: not server.grpc.connections)
        record = server.naming.services[SVC].instances[("10.0.0.5", 8080)]
        assert (record.ephemeral, record.owner) == (False, "")
        async with RawClient(server) as again:
            await again.connect()
            await again.ok("PersistentInstanceRequest", req("deregisterInstance"))
        assert hosts(server) == []
