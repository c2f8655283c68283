"""What each flavor serves, and how it refuses the rest (404 / 405 / 410 / 501 bodies)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from nacos_async.testing import FLAVORS, NacosDevServer

CFG = "dataId=a&group=G&groupName=G"
NS = "serviceName=s"

# (method, path with query) -> expected status per flavor; 200 means "served".
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("POST", "/v1/auth/login?username=nacos&password=nacos",
     {"2.x": 200, "3.1": 200, "3.2": 200, "3.3": 200}),
    ("POST", "/v1/auth/users/login?username=nacos&password=nacos",
     {"2.x": 200, "3.1": 200, "3.2": 200, "3.3": 200}),
    ("POST", "/v3/auth/user/login?username=nacos&password=nacos",
     {"2.x": 404, "3.1": 200, "3.2": 200, "3.3": 200}),
    ("GET", f"/v1/cs/configs?{CFG}", {"2.x": 404, "3.1": 404, "3.2": 404, "3.3": 404}),
    ("POST", "/v1/cs/configs/listener?Listening-Configs=a%02G%02%01",
     {"2.x": 200, "3.1": 200, "3.2": 404, "3.3": 404}),
    # /v1/ns/* removed in 3.2+ still meets the DistroFilter: 501, not 404
    ("GET", f"/v1/ns/instance/list?{NS}", {"2.x": 200, "3.1": 200, "3.2": 501, "3.3": 501}),
    ("GET", f"/v1/ns/instance?{NS}&ip=1.1.1.1&port=1",
     {"2.x": 404, "3.1": 410, "3.2": 501, "3.3": 501}),
    ("GET", "/v1/ns/service/list?pageNo=1&pageSize=10",
     {"2.x": 200, "3.1": 200, "3.2": 501, "3.3": 501}),
    ("POST", f"/v1/ns/service?{NS}", {"2.x": 200, "3.1": 410, "3.2": 501, "3.3": 501}),
    ("GET", "/v1/ns/operator/metrics", {"2.x": 200, "3.1": 200, "3.2": 200, "3.3": 200}),
    ("GET", f"/v2/cs/config?{CFG}", {"2.x": 404, "3.1": 410, "3.2": 404, "3.3": 404}),
    ("GET", f"/v2/ns/instance/list?{NS}", {"2.x": 200, "3.1": 410, "3.2": 404, "3.3": 404}),
    ("GET", f"/v3/client/cs/config?{CFG}", {"2.x": 404, "3.1": 200, "3.2": 200, "3.3": 200}),
    ("GET", f"/v3/client/ns/instance/list?{NS}",
     {"2.x": 404, "3.1": 200, "3.2": 200, "3.3": 200}),
    ("GET", "/v3/admin/ns/service/list", {"2.x": 404, "3.1": 200, "3.2": 200, "3.3": 200}),
]  # fmt: skip


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_flavor_matrix(http: aiohttp.ClientSession, flavor: str) -> None:
    async with NacosDevServer(auth=False, admin_auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        for method, path, expected in MATRIX:
            async with http.request(method, f"{server.url}{path}") as resp:
                assert resp.status == expected[flavor], (method, path)


async def test_unknown_v3_path_on_2x_is_spring_404(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(flavor="2.x") as server:
        async with http.get(f"{server.url}/v3/client/cs/config?dataId=a&groupName=G") as resp:
            assert resp.status == 404
            body = await resp.json()
        assert list(body) == ["timestamp", "status", "error", "message", "path"]
        assert body["status"] == 404
        assert body["error"] == "Not Found"
        assert body["path"] == "/nacos/v3/client/cs/config"


@pytest.mark.parametrize("flavor", ["3.2", "3.3"])
async def test_removed_v1_paths_on_32(http: aiohttp.ClientSession, flavor: str) -> None:
    """v1 naming meets the DistroFilter (still mapped on /v1/ns/*): 501 "no such api";
    v1 config has no filter in the way: Spring's 404."""
    async with NacosDevServer(flavor=flavor) as server:  # type: ignore[arg-type]
        async with http.post(f"{server.url}/v1/ns/instance?{NS}&ip=1.1.1.1&port=1") as resp:
            assert resp.status == 501
            body = await resp.json()
        assert list(body) == ["timestamp", "status", "error", "message", "path"]
        assert (body["error"], body["path"]) == ("Not Implemented", "/nacos/v1/ns/instance")
        assert body["message"] == "no such api:POST:/nacos/v1/ns/instance"
        async with http.get(f"{server.url}/v1/cs/configs?{CFG}") as resp:
            assert resp.status == 404
            assert (await resp.json())["message"] == "No static resource v1/cs/configs."
        async with http.get(f"{server.url}/v1/ns/operator/metrics") as resp:
            assert await resp.json() == {"status": "UP"}


async def test_v2_on_31_is_410_with_nacos_json_in_message(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(flavor="3.1") as server:
        async with http.get(f"{server.url}/v2/cs/config?{CFG}") as resp:
            assert resp.status == 410
            body = await resp.json()
        assert body["error"] == "Gone"
        assert json.loads(body["message"]) == {
            "code": 40000,
            "message": "Current API will be deprecated, please use API(s) "
            "`GET ${contextPath:nacos}/v3/admin/cs/config` instead, or set "
            "`nacos.core.api.compatibility.admin.enabled=true` in application.properties.",
        }


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_unknown_v1_ns_api_is_501(http: aiohttp.ClientSession, flavor: str) -> None:
    """DistroFilter's ``sendError(501, ...)``, rendered by Spring (alibaba/nacos#11832)."""
    async with NacosDevServer(flavor=flavor) as server:  # type: ignore[arg-type]
        async with http.get(f"{server.url}/v1/ns/nope") as resp:
            assert resp.status == 501
            body = await resp.json()
        assert (body["status"], body["error"]) == (501, "Not Implemented")
        assert body["message"] == "no such api:GET:/nacos/v1/ns/nope"
        async with http.post(f"{server.url}/v1/ns/instance/list") as resp:
            assert resp.status == 501  # a known path with another method too


async def test_outside_context_path_is_404(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer() as server:
        resp = await http.get(f"http://{server.address}/v1/cs/configs")
        assert resp.status == 404
        assert (await resp.json())["path"] == "/v1/cs/configs"
