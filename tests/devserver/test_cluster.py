"""``NacosDevCluster``: shared config and auth, Distro for v1 naming, v3 writes left where they land."""

from __future__ import annotations

import aiohttp
import pytest

from nacos_async.testing import FakeClock, NacosDevCluster, NacosDevServer
from nacos_async.testing._cluster import distro_index, java_string_hash

from ._helpers import login

V1, V3 = "/v1/ns/instance", "/v3/client/ns/instance"


def test_java_string_hash_and_distro_index() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("Aa") == java_string_hash("BB") == 2112
    assert java_string_hash("polygenelubricants") == -(2**31)  # Integer.MIN_VALUE
    assert java_string_hash("10.0.0.5:8080") == -1_528_827_200  # checked with a JVM
    assert distro_index("polygenelubricants", 3) == 1  # abs(MIN_VALUE % MAX_VALUE) = 1
    assert distro_index("10.0.0.5:8080", 3) == 2


def test_bad_sizes_and_options() -> None:
    for size in (0, 33, True, 2.5):
        with pytest.raises(ValueError, match="1 to 32 nodes"):
            NacosDevCluster(size)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="port="):
        NacosDevCluster(2, port=8848)
    with pytest.raises(RuntimeError, match="not started"):
        NacosDevCluster(2).responsible("10.0.0.5", 8080)


def other_than(cluster: NacosDevCluster, owner: NacosDevServer) -> NacosDevServer:
    return next(node for node in cluster.nodes if node is not owner)


def instance_ips(server: NacosDevServer, service: str = "svc") -> dict[str, bool]:
    svc = server.naming.service("public", "DEFAULT_GROUP", service)
    return {i.ip: i.healthy for i in svc.instances.values()} if svc else {}


async def test_address_list_shared_config_and_tokens(http: aiohttp.ClientSession) -> None:
    async with NacosDevCluster(3, flavor="2.x") as cluster:
        assert cluster.address == ",".join(n.address for n in cluster.nodes)
        assert len({n.port for n in cluster.nodes}) == 3
        assert "3 nodes" in repr(cluster)
        first, second, third = cluster.nodes
        token = await login(http, first)  # one secret: a token of one node works on all
        form = {"dataId": "app", "group": "DEFAULT_GROUP", "content": "a: 1"}
        async with http.post(f"{second.url}/v1/cs/configs", data=form,
                             params={"accessToken": token}) as resp:  # fmt: skip
            assert await resp.text() == "true"
        params = {"dataId": "app", "group": "DEFAULT_GROUP", "accessToken": token}
        async with http.get(f"{third.url}/v1/cs/configs", params=params) as resp:
            assert await resp.text() == "a: 1"
        first.add_user("ops", "pw", admin=True)  # users are shared as well
        assert await login(http, third, "ops", "pw")


@pytest.mark.parametrize("flavor", ["2.x", "3.1"])
async def test_v1_writes_are_distro_routed_and_seen_on_every_node(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    clock = FakeClock()
    async with NacosDevCluster(3, flavor=flavor, auth=False, clock=clock) as cluster:
        owner = cluster.responsible("10.0.0.5", 8080)
        receiver = other_than(cluster, owner)
        form = {"serviceName": "svc", "ip": "10.0.0.5", "port": "8080"}
        async with http.post(f"{receiver.url}{V1}", data=form) as resp:
            assert await resp.text() == "ok"
        for node in cluster.nodes:
            async with http.get(f"{node.url}{V1}/list", params={"serviceName": "svc"}) as resp:
                assert [h["ip"] for h in (await resp.json())["hosts"]] == ["10.0.0.5"]
        await clock.advance(10)
        beat_via = other_than(cluster, receiver)
        async with http.put(f"{beat_via.url}{V1}/beat", params=form) as resp:
            assert (await resp.json())["code"] == 10200
        await clock.advance(10)  # 20 s after registering, 10 s after the beat: healthy
        assert all(instance_ips(n) == {"10.0.0.5": True} for n in cluster.nodes)
        async with http.delete(f"{owner.url}{V1}", params=form) as resp:
            assert await resp.text() == "ok"
        assert all(instance_ips(n) == {} for n in cluster.nodes)


@pytest.mark.parametrize("flavor", ["3.1", "3.2", "3.3"])
async def test_v3_registration_on_a_node_not_responsible_stays_there_unchecked(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    """alibaba/nacos#14992: no DistroFilter on /v3/client/ns/*, so the receiving node keeps the
    instance, syncs it to nobody and never beat-checks it (it goes only with its client, after
    three silent minutes)."""
    clock = FakeClock()
    async with NacosDevCluster(3, flavor=flavor, auth=False, clock=clock) as cluster:
        owner = cluster.responsible("10.0.0.5", 8080)
        receiver = other_than(cluster, owner)
        form = {"serviceName": "svc", "ip": "10.0.0.5", "port": "8080"}
        async with http.post(f"{receiver.url}{V3}", data=form) as resp:
            assert (await resp.json())["data"] == "ok"
        for node in cluster.nodes:
            async with http.get(f"{node.url}{V3}/list", params={"serviceName": "svc"}) as resp:
                ips = [h["ip"] for h in (await resp.json())["data"]]
            assert ips == (["10.0.0.5"] if node is receiver else []), node.address
        beat = {"heartBeat": "true"}
        async with http.post(f"{owner.url}{V3}", params=beat, data=form) as resp:
            assert (await resp.json())["code"] == 21003  # the owner never heard of it
        await clock.advance(60)  # no beats: a checked instance would be gone after 30 s
        assert instance_ips(receiver) == {"10.0.0.5": True}
        async with http.delete(f"{owner.url}{V3}", params=form) as resp:
            assert (await resp.json())["data"] == "ok"  # deregistering elsewhere: no effect
        assert instance_ips(receiver) == {"10.0.0.5": True}
        await clock.advance(121)  # 181 s silent: the client expires
        assert instance_ips(receiver) == {}


@pytest.mark.parametrize("flavor", ["3.1", "3.3"])
async def test_v3_registration_on_the_responsible_node_is_synced(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    clock = FakeClock()
    async with NacosDevCluster(2, flavor=flavor, auth=False, clock=clock) as cluster:
        owner = cluster.responsible("10.0.0.5", 8080)
        form = {"serviceName": "svc", "ip": "10.0.0.5", "port": "8080"}
        async with http.post(f"{owner.url}{V3}", data=form) as resp:
            assert (await resp.json())["data"] == "ok"
        assert all(instance_ips(n) == {"10.0.0.5": True} for n in cluster.nodes)
        await clock.advance(16)  # beat-checked by the owner, synced to the others
        assert all(instance_ips(n) == {"10.0.0.5": False} for n in cluster.nodes)


async def test_service_metadata_is_replicated(http: aiohttp.ClientSession) -> None:
    async with NacosDevCluster(2, flavor="3.2", auth=False, admin_auth=False) as cluster:
        first, second = cluster.nodes
        form = {"serviceName": "svc", "protectThreshold": "0.5", "ephemeral": "true"}
        async with http.post(f"{first.url}/v3/admin/ns/service", data=form) as resp:
            assert resp.status == 200
        async with http.get(f"{second.url}/v3/admin/ns/service", params=form) as resp:
            assert (await resp.json())["data"]["protectThreshold"] == 0.5


@pytest.mark.parametrize("flavor", ["2.x", "3.2"])
async def test_grpc_instances_are_synced_to_every_node_and_leave_with_the_connection(
    flavor: str,
) -> None:
    """Distro: the node holding a gRPC connection syncs its instances to every node (whichever
    node is responsible for their address), subscribers on other nodes are pushed, and the
    instances go everywhere when the connection ends. Persistent ones (Raft) are everywhere."""
    pytest.importorskip("grpclib")
    from .grpc_server._client import connected

    async with NacosDevCluster(3, flavor=flavor, auth=False) as cluster:
        first, *others = cluster.nodes
        svc = {"namespace": "public", "serviceName": "svc", "groupName": "DEFAULT_GROUP"}
        watcher = await connected(others[0])
        await watcher.ok("SubscribeServiceRequest", svc | {"clusters": "", "subscribe": True})
        assert (await watcher.next_push("NotifySubscriberRequest")).json()["serviceInfo"][
            "hosts"
        ] == []
        owner = await connected(first)
        batch = [{"ip": "10.0.0.5", "port": port} for port in range(8080, 8086)]
        await owner.ok("BatchInstanceRequest", svc | {"type": "batchRegisterInstance",
                                                      "instances": batch})  # fmt: skip
        ports = {i["port"] for i in batch}
        for node in cluster.nodes:  # their addresses hash to every node: all synced anyway
            service = node.naming.service("public", "DEFAULT_GROUP", "svc")
            assert service is not None and {p for _, p in service.instances} == ports
        pushed = (await watcher.next_push("NotifySubscriberRequest")).json()["serviceInfo"]
        assert {h["port"] for h in pushed["hosts"]} == ports  # told by its own node
        persistent = {"ip": "10.0.0.9", "port": 1, "ephemeral": False}
        await owner.ok(
            "PersistentInstanceRequest",
            svc | {"type": "registerInstance", "instance": persistent},
        )
        await owner.close()
        await first.grpc.wait_until(lambda: not first.grpc.connections)  # it saw the end
        assert all(instance_ips(node) == {"10.0.0.9": True} for node in cluster.nodes)
        await watcher.close()
