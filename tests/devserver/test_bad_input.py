"""Malformed requests get the 400 answers real Nacos gives, and the server keeps serving."""

from __future__ import annotations

import aiohttp
import pytest

from nacos_async.testing import NacosDevServer

LISTENER = "/v1/cs/configs/listener"


@pytest.mark.parametrize(
    ("probe", "body"),
    [
        ("", "caused: invalid probeModify;"),
        ("a\x02b\x02c\x02d\x02e\x01", "caused: invalid probeModify;"),
        ("onlyone\x01", "caused: invalid probeModify;"),
        (
            "%zz",
            "caused: URLDecoder: Illegal hex characters in escape (%) pattern - For input "
            'string: "zz" under radix 16;',
        ),
    ],
)
async def test_malformed_listening_configs(
    http: aiohttp.ClientSession, probe: str, body: str
) -> None:
    async with NacosDevServer(auth=False) as server:
        async with http.post(
            f"{server.url}{LISTENER}",
            data={"Listening-Configs": probe},
            headers={"Long-Pulling-Timeout": "30000"},
        ) as resp:
            assert resp.status == 400
            assert await resp.text() == body
        await _still_serving(http, server)


async def test_too_many_listeners(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        probe = "".join(f"d{i}\x02G\x02\x01" for i in range(10001))
        async with http.post(f"{server.url}{LISTENER}", data={"Listening-Configs": probe}) as r:
            assert (r.status, await r.text()) == (400, "caused: invalid probeModify;")


async def test_oversized_form_is_ignored_like_tomcat(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False, max_form_size=1024) as server:
        form = {"dataId": "a", "group": "G", "content": "x" * 2048}
        async with http.post(f"{server.url}/v1/cs/configs", data=form) as resp:
            assert resp.status == 400
            body = await resp.json()
        assert body["message"] == (
            "Required request parameter 'dataId' for method parameter type String is not present"
        )
        await _still_serving(http, server)


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"metadata": "{not json"}, "metadata format incorrect:{not json"),
        ({"metadata": "a=1,b"}, "metadata format incorrect:a=1,b"),
        ({"port": "eighty"}, 'For input string: "eighty"'),
        ({"weight": "20000"}, "instance format invalid: The weights range from 0.0 to 10000.0"),
        ({"serviceName": ""}, "Param 'serviceName' is required."),
        ({"ip": ""}, "Param 'ip' is required."),
    ],
)
async def test_bad_register(http: aiohttp.ClientSession, params: dict[str, str], body: str) -> None:
    async with NacosDevServer(auth=False) as server:
        form = {"serviceName": "s", "ip": "1.1.1.1", "port": "80"} | params
        async with http.post(f"{server.url}/v1/ns/instance", data=form) as resp:
            assert resp.status == 400
            assert await resp.text() == body
        await _still_serving(http, server)


async def test_bad_metadata_on_v3_is_nacos_api_json(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False, flavor="3.2") as server:
        form = {"serviceName": "s", "ip": "1.1.1.1", "port": "80", "metadata": "x"}
        async with http.post(f"{server.url}/v3/client/ns/instance", data=form) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "code": 21002,
                "message": "instance metadata error",
                "data": "metadata format incorrect:x",
            }


@pytest.mark.parametrize("beat", ["{oops", "[1]", '{"ip":"1.1.1.1","port":"x"}'])
async def test_bad_beat_json(http: aiohttp.ClientSession, beat: str) -> None:
    async with NacosDevServer(auth=False) as server:
        params = {"serviceName": "s", "beat": beat}
        async with http.put(f"{server.url}/v1/ns/instance/beat", params=params) as resp:
            assert resp.status == 400
            assert (await resp.text()).startswith(
                "errCode: 101, errMsg: Nacos deserialize for class "
                "[com.alibaba.nacos.naming.healthcheck.RsInfo] failed"
            )
        await _still_serving(http, server)


async def test_service_list_requires_paging(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        resp = await http.get(f"{server.url}/v1/ns/service/list?pageNo=1")
        assert (resp.status, await resp.text()) == (400, "Param 'pageSize' is required.")


async def _still_serving(http: aiohttp.ClientSession, server: NacosDevServer) -> None:
    async with http.get(f"{server.url}/v1/ns/operator/metrics") as resp:
        assert resp.status == 200
