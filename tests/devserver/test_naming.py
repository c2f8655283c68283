"""Naming APIs: v1/v2/v3 register, beat, list; health and expiry on a fake clock."""

from __future__ import annotations

import json

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
        # All unhealthy: the protect threshold (0) returns them flipped to healthy.
        async with http.get(f"{server.url}{INS}/list", params={"serviceName": "svc"}) as resp:
            info = await resp.json()
        assert info["reachProtectionThreshold"] is True
        assert info["hosts"][0]["healthy"] is True
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


async def test_preserved_metadata_sets_beat_interval(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        meta = json.dumps({"preserved.heart.beat.interval": "1000"})
        reg = {"serviceName": "svc", "ip": "1.2.3.4", "port": "80"}
        async with http.post(f"{server.url}{INS}", data=reg | {"metadata": meta}) as resp:
            assert resp.status == 200
        async with http.put(f"{server.url}{INS}/beat", params=reg) as resp:
            assert (await resp.json())["clientBeatInterval"] == 1000


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
        assert data["totalCount"] == 2
        assert data["pagesAvailable"] == 2
        assert data["pageItems"] == [
            {"name": "a", "groupName": "DEFAULT_GROUP", "clusterCount": 1, "ipCount": 1,
             "healthyInstanceCount": 1, "triggerFlag": "false"}
        ]  # fmt: skip


async def test_v2_instance_api(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        form = {"serviceName": "svc", "ip": "1.1.1.1", "port": "1"}
        async with http.post(f"{server.url}/v2/ns/instance", data=form) as resp:
            assert await resp.json() == {"code": 0, "message": "success", "data": "ok"}
        async with http.get(f"{server.url}/v2/ns/instance/list", params=form) as resp:
            assert (await resp.json())["data"]["hosts"][0]["ip"] == "1.1.1.1"
        async with http.put(f"{server.url}/v2/ns/instance/beat", params=form) as resp:
            assert (await resp.json())["code"] == 10200
