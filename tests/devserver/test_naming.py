"""Naming APIs: v1/v2/v3 register, beat, list; health and expiry on a fake clock."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from nacos_async.testing import FakeClock, NacosDevServer

INS = "/v1/ns/instance"


async def test_v1_register_list_update_deregister(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        form = {
            "serviceName": "orders",
            "ip": "10.0.0.5",
            "port": "8080",
            "weight": "2.5",
            "clusterName": "east",
            "metadata": json.dumps({"v": "2", "n": 1}),
        }
        async with http.post(f"{server.url}{INS}", data=form) as resp:
            assert await resp.text() == "ok"
        form2 = {"serviceName": "DEFAULT_GROUP@@orders", "ip": "10.0.0.6", "port": "8080",
                 "metadata": "a=1,b=2", "enabled": "false"}  # fmt: skip
        async with http.post(f"{server.url}{INS}", data=form2) as resp:
            assert await resp.text() == "ok"
        async with http.get(f"{server.url}{INS}/list", params={"serviceName": "orders"}) as resp:
            info = await resp.json()
        assert info["name"] == "DEFAULT_GROUP@@orders"
        assert info["groupName"] == "DEFAULT_GROUP"
        assert info["reachProtectionThreshold"] is False
        assert len(info["hosts"]) == 1  # the disabled one is filtered out
        host = info["hosts"][0]
        assert host == {
            "instanceId": "10.0.0.5#8080#east#DEFAULT_GROUP@@orders",
            "ip": "10.0.0.5",
            "port": 8080,
            "weight": 2.5,
            "healthy": True,
            "enabled": True,
            "ephemeral": True,
            "clusterName": "east",
            "serviceName": "DEFAULT_GROUP@@orders",
            "metadata": {"v": "2", "n": "1"},
            "instanceHeartBeatInterval": 5000,
            "instanceHeartBeatTimeOut": 15000,
            "ipDeleteTimeout": 30000,
            "instanceIdGenerator": "simple",
        }
        async with http.get(
            f"{server.url}{INS}/list", params={"serviceName": "orders", "clusters": "west"}
        ) as resp:
            assert (await resp.json())["hosts"] == []
        update = {"serviceName": "orders", "ip": "10.0.0.6", "port": "8080", "enabled": "true"}
        async with http.put(f"{server.url}{INS}", data=update) as resp:
            assert await resp.text() == "ok"
        async with http.get(
            f"{server.url}{INS}", params={"serviceName": "orders", "ip": "10.0.0.6", "port": "8080"}
        ) as resp:
            assert (await resp.json())["metadata"] == {}
        async with http.get(
            f"{server.url}/v1/ns/service/list", params={"pageNo": "1", "pageSize": "10"}
        ) as resp:
            assert await resp.json() == {"count": 1, "doms": ["orders"]}
        for ip in ("10.0.0.5", "10.0.0.6"):
            params = {"serviceName": "orders", "ip": ip, "port": "8080"}
            async with http.delete(f"{server.url}{INS}", params=params) as resp:
                assert await resp.text() == "ok"
        async with http.get(f"{server.url}{INS}/list", params={"serviceName": "orders"}) as resp:
            assert (await resp.json())["hosts"] == []


async def test_instance_expiry_and_beats_on_fake_clock(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        reg = {"serviceName": "svc", "ip": "1.2.3.4", "port": "80"}
        async with http.post(f"{server.url}{INS}", data=reg) as resp:
            assert resp.status == 200
        beat_url = f"{server.url}{INS}/beat"

        async def hosts(healthy_only: bool = False) -> list[dict[str, object]]:
            params = {"serviceName": "svc", "healthyOnly": str(healthy_only).lower()}
            async with http.get(f"{server.url}{INS}/list", params=params) as resp:
                result: list[dict[str, object]] = (await resp.json())["hosts"]
                return result

        await clock.advance(14)
        assert (await hosts())[0]["healthy"] is True
        async with http.put(beat_url, params=reg) as resp:  # a light beat keeps it alive
            assert await resp.json() == {
                "clientBeatInterval": 5000,
                "code": 10200,
                "lightBeatEnabled": True,
            }
        await clock.advance(16)
        assert await hosts(healthy_only=True) == []
        # All unhealthy, but no stored service metadata: no protection, listed as unhealthy.
        async with http.get(f"{server.url}{INS}/list", params={"serviceName": "svc"}) as resp:
            info = await resp.json()
        assert info["reachProtectionThreshold"] is False
        assert info["hosts"][0]["healthy"] is False
        await clock.advance(15)  # 31 s without a beat: removed
        assert await hosts() == []
        async with http.put(beat_url, params=reg) as resp:
            assert (await resp.json())["code"] == 20404
        beat = json.dumps({"ip": "1.2.3.4", "port": 80, "serviceName": "DEFAULT_GROUP@@svc",
                           "cluster": "c1", "weight": 3, "metadata": {"k": "v"}})  # fmt: skip
        async with http.put(beat_url, params={"serviceName": "svc", "beat": beat}) as resp:
            assert (await resp.json())["code"] == 10200  # a full beat re-registers
        (host,) = await hosts()
        assert (host["clusterName"], host["weight"], host["metadata"]) == ("c1", 3.0, {"k": "v"})


async def test_health_follows_every_change_not_only_the_clock(http: aiohttp.ClientSession) -> None:
    """The store skips its health pass until something can be due: a shorter timeout set by
    an update, a beat that makes an instance healthy again and a new instance count at once."""
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:

        async def register(ip: str, metadata: dict[str, str] | None = None) -> None:
            form = {"serviceName": "svc", "ip": ip, "port": "80"}
            if metadata:
                form["metadata"] = json.dumps(metadata)
            async with http.post(f"{server.url}{INS}", data=form) as resp:
                assert resp.status == 200

        async def health() -> dict[object, object]:
            async with http.get(f"{server.url}{INS}/list", params={"serviceName": "svc"}) as r:
                return {h["ip"]: h["healthy"] for h in (await r.json())["hosts"]}

        await register("10.0.0.1")
        assert await health() == {"10.0.0.1": True}
        await clock.advance(10)
        await register("10.0.0.2")
        short = {"preserved.heart.beat.timeout": "5000"}
        update = {"serviceName": "svc", "ip": "10.0.0.1", "port": "80",
                  "metadata": json.dumps(short)}  # fmt: skip
        async with http.put(f"{server.url}{INS}", data=update) as resp:
            assert await resp.text() == "ok"
        assert await health() == {"10.0.0.1": False, "10.0.0.2": True}  # 10 s > 5 s
        beat = {"serviceName": "svc", "ip": "10.0.0.1", "port": "80"}
        async with http.put(f"{server.url}{INS}/beat", params=beat) as resp:
            assert (await resp.json())["code"] == 10200
        await clock.advance(6)  # 6 s since that beat > 5 s: unhealthy again
        assert await health() == {"10.0.0.1": False, "10.0.0.2": True}
        await register("10.0.0.3", {"preserved.heart.beat.timeout": "1000"})
        await clock.advance(2)
        assert await health() == {"10.0.0.1": False, "10.0.0.2": True, "10.0.0.3": False}


async def test_preserved_metadata_sets_beat_interval(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        meta = json.dumps({"preserved.heart.beat.interval": "1000"})
        reg = {"serviceName": "svc", "ip": "1.2.3.4", "port": "80"}
        async with http.post(f"{server.url}{INS}", data=reg | {"metadata": meta}) as resp:
            assert resp.status == 200
        async with http.put(f"{server.url}{INS}/beat", params=reg) as resp:
            assert (await resp.json())["clientBeatInterval"] == 1000


@pytest.mark.parametrize("value", ["1" + "0" * 400, "9" * 5000, "-5000", "+5000", "５０００"])
async def test_preserved_timeouts_nacos_cannot_read_are_the_defaults(
    http: aiohttp.ClientSession, value: str
) -> None:
    """Digits only, within a Java long (``getMetaDataByKeyWithDefault``); anything else is the
    default, and never stops the health of the other instances."""
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        odd = {"preserved.heart.beat.timeout": value, "preserved.ip.delete.timeout": value}
        for ip, metadata in (("10.0.0.1", odd), ("10.0.0.2", {})):
            form = {"serviceName": "svc", "ip": ip, "port": "80", "metadata": json.dumps(metadata)}
            async with http.post(f"{server.url}{INS}", data=form) as resp:
                assert await resp.text() == "ok"

        async def health() -> dict[object, object]:
            async with http.get(f"{server.url}{INS}/list", params={"serviceName": "svc"}) as r:
                assert r.status == 200
                return {h["ip"]: h["healthy"] for h in (await r.json())["hosts"]}

        await clock.advance(16)
        assert await health() == {"10.0.0.1": False, "10.0.0.2": False}  # 15 s, the default
        await clock.advance(15)
        assert await health() == {}  # 30 s, the default


@pytest.mark.parametrize(
    ("flavor", "path", "hosts_of"),
    [
        ("2.x", "/v1/ns/instance/list", lambda body: body["hosts"]),
        ("2.x", "/v2/ns/instance/list", lambda body: body["data"]["hosts"]),
        ("3.2", "/v3/client/ns/instance/list", lambda body: body["data"]),
    ],
)
async def test_lists_are_written_as_jackson_writes_them(
    http: aiohttp.ClientSession, flavor: str, path: str, hosts_of: Any
) -> None:
    """Compact UTF-8 JSON in every list API, hosts (kept between lists) included."""
    async with NacosDevServer(auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        register = "/v1/ns/instance" if flavor == "2.x" else "/v3/client/ns/instance"
        form = {"serviceName": "svc", "ip": "1.1.1.1", "port": "9000",
                "metadata": json.dumps({"地区": "上海"})}  # fmt: skip
        async with http.post(f"{server.url}{register}", data=form) as resp:
            assert resp.status == 200
        for _ in range(2):  # written, then kept
            async with http.get(f"{server.url}{path}", params={"serviceName": "svc"}) as resp:
                raw = await resp.read()
            assert '"metadata":{"地区":"上海"}'.encode() in raw
            assert b": " not in raw and b", " not in raw
            (host,) = hosts_of(json.loads(raw))
            assert (host["ip"], host["port"], host["serviceName"]) == (
                "1.1.1.1", 9000, "DEFAULT_GROUP@@svc",
            )  # fmt: skip


@pytest.mark.parametrize("flavor", ["3.1", "3.2"])
async def test_v3_client_register_heartbeat_list_deregister(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock, flavor=flavor) as server:  # type: ignore[arg-type]
        url = f"{server.url}/v3/client/ns/instance"
        form = {"serviceName": "svc", "groupName": "G", "ip": "1.1.1.1", "port": "9000",
                "metadata": '{"zone":"a"}'}  # fmt: skip
        async with http.post(url, params={"heartBeat": "true"}, data=form) as resp:
            assert await resp.json() == {
                "code": 21003,
                "message": "instance not found",
                "data": None,
            }
        async with http.post(url, data=form) as resp:
            assert await resp.json() == {"code": 0, "message": "success", "data": "ok"}
        await clock.advance(20)
        async with http.post(url, params={"heartBeat": "true"}, data=form) as resp:
            assert (await resp.json())["data"] == "ok"
        async with http.get(f"{url}/list", params={"serviceName": "svc", "groupName": "G"}) as r:
            body = await r.json()
        assert body["code"] == 0
        assert [(h["ip"], h["healthy"], h["metadata"]) for h in body["data"]] == [
            ("1.1.1.1", True, {"zone": "a"})
        ]
        async with http.delete(url, params=form) as resp:
            assert (await resp.json())["data"] == "ok"
        async with http.delete(url, params=form) as resp:  # also "ok" when already gone
            assert (await resp.json())["data"] == "ok"
        async with http.post(url, data={"ip": "1.1.1.1", "port": "1"}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "code": 10000,
                "message": "parameter missing",
                "data": "Required parameter 'serviceName' type String is not present",
            }


async def test_v3_admin_service_list(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False, admin_auth=False, flavor="3.2") as server:
        for name in ("b", "a"):
            form = {"serviceName": name, "ip": "1.1.1.1", "port": "1"}
            async with http.post(f"{server.url}/v3/client/ns/instance", data=form) as resp:
                assert resp.status == 200
        async with http.get(
            f"{server.url}/v3/admin/ns/service/list", params={"pageNo": "1", "pageSize": "1"}
        ) as resp:
            data = (await resp.json())["data"]
        assert list(data) == ["totalCount", "pageNumber", "pagesAvailable", "pageItems"]
        assert data["totalCount"] == 2
        assert data["pagesAvailable"] == 3  # PageUtil.subPage: totalCount / pageSize + 1
        assert data["pageItems"] == [
            {"name": "a", "groupName": "DEFAULT_GROUP", "clusterCount": 1, "ipCount": 1,
             "healthyInstanceCount": 1, "triggerFlag": "false"}
        ]  # fmt: skip
        async with http.get(
            f"{server.url}/v3/admin/ns/service/list", params={"pageNo": "0"}
        ) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "code": 20002,
                "message": "parameter validate error",
                "data": "Required parameter 'pageNo' should be positive integer, current is 0",
            }


SERVICES = [("G", "orders"), ("G2", "orders-v2"), ("DEFAULT_GROUP", "billing"), ("XG", "pay")]


@pytest.mark.parametrize("flavor", ["3.1", "3.2", "3.3"])
async def test_v3_admin_service_list_reads_group_name_param_as_a_substring(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    """``groupNameParam``/``serviceNameParam`` are bound (regex substrings); ``groupName`` is
    not read at all, so a client sending it gets every group's services and their count."""
    async with NacosDevServer(auth=False, admin_auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        for group, name in SERVICES:
            form = {"serviceName": name, "groupName": group, "ip": "1.1.1.1", "port": "1"}
            async with http.post(f"{server.url}/v3/client/ns/instance", data=form) as resp:
                assert resp.status == 200

        async def listed(**params: str) -> tuple[int, list[tuple[str, str]]]:
            url = f"{server.url}/v3/admin/ns/service/list"
            async with http.get(url, params=params) as resp:
                data = (await resp.json())["data"]
            return data["totalCount"], [(i["groupName"], i["name"]) for i in data["pageItems"]]

        everything = sorted(SERVICES)
        assert await listed(groupName="G") == (4, everything)  # ignored
        assert await listed(groupNameParam="G") == (4, everything)  # "G" is in every group
        assert await listed(groupNameParam="G2") == (1, [("G2", "orders-v2")])
        assert await listed(groupNameParam="^G$") == (0, [])  # anchors inside .*...* fail
        assert await listed(serviceNameParam="orders") == (
            2, [("G", "orders"), ("G2", "orders-v2")]
        )  # fmt: skip
        assert await listed(groupNameParam="X", serviceNameParam="a") == (1, [("XG", "pay")])
        assert await listed(groupNameParam="G[0-9]") == (1, [("G2", "orders-v2")])  # a regex
        async with http.get(
            f"{server.url}/v3/admin/ns/service/list", params={"groupNameParam": "("}
        ) as resp:
            assert resp.status == 500  # Java's PatternSyntaxException
            assert (await resp.json())["code"] == 30000


async def test_v3_admin_service_list_with_instances(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False, admin_auth=False, flavor="3.2") as server:
        for cluster in ("east", "DEFAULT"):
            form = {"serviceName": "s", "ip": "1.1.1.1", "port": "1", "clusterName": cluster}
            form["port"] = "1" if cluster == "east" else "2"
            async with http.post(f"{server.url}/v3/client/ns/instance", data=form) as resp:
                assert resp.status == 200
        async with http.get(
            f"{server.url}/v3/admin/ns/service/list", params={"withInstances": "true"}
        ) as resp:
            (item,) = (await resp.json())["data"]["pageItems"]
        assert (item["serviceName"], item["groupName"]) == ("s", "DEFAULT_GROUP")
        assert sorted(item["clusterMap"]) == ["DEFAULT", "east"]
        assert [h["port"] for h in item["clusterMap"]["east"]["hosts"]] == [1]


@pytest.mark.parametrize("flavor", ["3.1", "3.2", "3.3"])
async def test_v3_instance_lists_name_the_default_cluster_when_none_is_given(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    """``InstanceListForm``: a blank ``clusterName`` becomes ``DEFAULT``; there is no
    "every cluster" value, but several clusters may be named, comma-separated."""
    async with NacosDevServer(auth=False, admin_auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        for port, cluster in ((1, "DEFAULT"), (2, "east"), (3, "west")):
            form = {"serviceName": "s", "ip": "1.1.1.1", "port": str(port), "clusterName": cluster}
            async with http.post(f"{server.url}/v3/client/ns/instance", data=form) as resp:
                assert resp.status == 200

        async def ports(path: str, **params: str) -> list[int] | int:
            url = f"{server.url}{path}"
            async with http.get(url, params={"serviceName": "s"} | params) as resp:
                body = await resp.json()
            return sorted(h["port"] for h in body["data"]) if body["code"] == 0 else resp.status

        client, admin = "/v3/client/ns/instance/list", "/v3/admin/ns/instance/list"
        assert await ports(client) == [1]
        assert await ports(client, clusterName="") == [1]
        assert await ports(client, clusterName="east") == [2]
        assert await ports(client, clusterName="east,west") == [2, 3]
        assert await ports(admin) == [1]
        assert await ports(admin, clusterName="west") == [3]
        assert await ports(admin, clusterName="east,west") == 404  # one cluster only
        assert await ports(admin, serviceName="nope") == 404


@pytest.mark.parametrize("flavor", ["2.x", "3.1"])
async def test_v1_instance_list_without_clusters_lists_every_cluster(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    async with NacosDevServer(auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        for port, cluster in ((1, "DEFAULT"), (2, "east")):
            form = {"serviceName": "s", "ip": "1.1.1.1", "port": str(port), "clusterName": cluster}
            async with http.post(f"{server.url}{INS}", data=form) as resp:
                assert resp.status == 200
        async with http.get(f"{server.url}{INS}/list", params={"serviceName": "s"}) as resp:
            assert sorted(h["port"] for h in (await resp.json())["hosts"]) == [1, 2]


@pytest.mark.parametrize(
    ("flavor", "create"),
    [("2.x", "/v1/ns/service"), ("3.2", "/v3/admin/ns/service"), ("3.3", None)],
)
async def test_protect_threshold_applies_only_with_stored_service_metadata(
    http: aiohttp.ClientSession, flavor: str, create: str | None
) -> None:
    """``ServiceUtil.selectInstancesWithHealthyProtection`` returns early for a service with
    no ``ServiceMetadata``: a plain registered service is listed as it is."""
    clock = FakeClock()
    async with NacosDevServer(auth=False, admin_auth=False, flavor=flavor, clock=clock) as server:  # type: ignore[arg-type]
        v1 = not server.traits.v1_removed
        if create is None:
            server.create_service("guarded", protect_threshold=0.5)
        else:
            form = {"serviceName": "guarded", "protectThreshold": "0.5", "ephemeral": "true"}
            async with http.post(f"{server.url}{create}", data=form) as resp:
                assert resp.status == 200, await resp.text()
            async with http.post(f"{server.url}{create}", data=form) as resp:
                assert resp.status == 400  # exists already
        register = f"{server.url}{INS if v1 else '/v3/client/ns/instance'}"
        for service in ("plain", "guarded"):
            form = {"serviceName": service, "ip": "1.1.1.1", "port": "1"}
            async with http.post(register, data=form) as resp:
                assert resp.status == 200
        await clock.advance(16)  # no beats: unhealthy

        async def listed(service: str) -> tuple[bool, bool | None]:
            if v1:
                url, params = f"{server.url}{INS}/list", {"serviceName": service}
            else:
                url, params = f"{server.url}/v3/client/ns/instance/list", {"serviceName": service}
            async with http.get(url, params=params) as resp:
                body = await resp.json()
            hosts = body["hosts"] if v1 else body["data"]
            return hosts[0]["healthy"], body.get("reachProtectionThreshold")

        expect = (lambda flag: flag) if v1 else (lambda flag: None)
        assert await listed("plain") == (False, expect(False))
        assert await listed("guarded") == (True, expect(True))  # flipped to healthy


@pytest.mark.parametrize("flavor", ["2.x", "3.2"])
async def test_beats_are_for_ephemeral_instances_only(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    """A beat looks for the ephemeral client ``ip:port#true``: a persistent instance is
    never found by one (20404 / 21003), and never expires for want of beats."""
    clock = FakeClock()
    async with NacosDevServer(auth=False, flavor=flavor, clock=clock) as server:  # type: ignore[arg-type]
        form = {"serviceName": "db", "ip": "1.1.1.1", "port": "5432", "ephemeral": "false"}
        if flavor == "2.x":
            async with http.post(f"{server.url}{INS}", data=form) as resp:
                assert await resp.text() == "ok"
            async with http.put(f"{server.url}{INS}/beat", params=form) as resp:
                assert (await resp.json())["code"] == 20404
        else:
            url = f"{server.url}/v3/client/ns/instance"
            async with http.post(url, data=form) as resp:
                assert (await resp.json())["data"] == "ok"
            async with http.post(url, params={"heartBeat": "true"}, data=form) as resp:
                assert (await resp.json())["code"] == 21003
        await clock.advance(3600)
        (host,) = server.naming.list_services("public", "DEFAULT_GROUP")[0].instances.values()
        assert (host.ephemeral, host.healthy) == (False, True)


@pytest.mark.parametrize("flavor", ["2.x", "3.1", "3.2"])
async def test_update_instance_needs_the_service_and_changes_weight_enabled_metadata(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    """``updateInstance`` (v1 PUT and ``PUT /v3/admin/ns/instance``): 400 when the service is
    unknown; otherwise the instance of that address and cluster takes the new values."""
    async with NacosDevServer(auth=False, admin_auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        v3 = server.traits.v3
        path = "/v3/admin/ns/instance" if v3 else INS
        register = "/v3/client/ns/instance" if v3 else INS
        base = {"serviceName": "s", "ip": "1.1.1.1", "port": "80"}
        async with http.put(f"{server.url}{path}", data=base | {"weight": "3"}) as resp:
            assert resp.status == 400
            body = await resp.text()
            if v3:
                assert json.loads(body)["code"] == 21004
            assert "service not found, namespace: public" in body
        async with http.post(f"{server.url}{register}", data=base) as resp:
            assert resp.status == 200
        change = base | {"weight": "3", "enabled": "false", "metadata": '{"v":"2"}'}
        async with http.put(f"{server.url}{path}", data=change) as resp:
            assert resp.status == 200
            assert (await resp.text()) in ("ok", '{"code":0,"message":"success","data":"ok"}')
        (host,) = server.naming.list_services("public", "DEFAULT_GROUP")[0].instances.values()
        assert (host.weight, host.enabled, host.metadata) == (3.0, False, {"v": "2"})
        other_cluster = base | {"weight": "5", "clusterName": "east"}
        async with http.put(f"{server.url}{path}", data=other_cluster) as resp:
            assert resp.status == 200  # stored for another cluster: this instance is unchanged
        assert host.weight == 3.0


async def test_v3_admin_service_detail(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False, admin_auth=False, flavor="3.2") as server:
        url = f"{server.url}/v3/admin/ns/service"
        async with http.get(url, params={"serviceName": "s"}) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 21008
        form = {"serviceName": "s", "ip": "1.1.1.1", "port": "1", "clusterName": "east"}
        async with http.post(f"{server.url}/v3/client/ns/instance", data=form) as resp:
            assert resp.status == 200
        server.create_service("s", protect_threshold=0.25, metadata={"team": "a"})
        async with http.get(url, params={"serviceName": "s"}) as resp:
            data = (await resp.json())["data"]
        assert (data["namespaceId"], data["serviceName"], data["groupName"]) == (
            "public", "s", "DEFAULT_GROUP"
        )  # fmt: skip
        assert (data["protectThreshold"], data["metadata"]) == (0.25, {"team": "a"})
        assert list(data["clusterMap"]) == ["east"]


async def test_v2_instance_api(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        form = {"serviceName": "svc", "ip": "1.1.1.1", "port": "1"}
        async with http.post(f"{server.url}/v2/ns/instance", data=form) as resp:
            assert await resp.json() == {"code": 0, "message": "success", "data": "ok"}
        async with http.get(f"{server.url}/v2/ns/instance/list", params=form) as resp:
            assert (await resp.json())["data"]["hosts"][0]["ip"] == "1.1.1.1"
        async with http.put(f"{server.url}/v2/ns/instance/beat", params=form) as resp:
            assert (await resp.json())["code"] == 10200
