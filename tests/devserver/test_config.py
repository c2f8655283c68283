"""Config APIs: v1 CRUD, MD5/CAS, the long-poll listener, v2/v3 envelopes, persistence."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import aiohttp
import pytest

from nacos_async.testing import NacosDevServer

from ._helpers import login

V1 = "/v1/cs/configs"


async def test_v1_crud_md5_and_headers(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        url = f"{server.url}{V1}"
        key = {"dataId": "app.json", "group": "G", "tenant": "dev"}
        async with http.get(url, params=key) as resp:
            assert resp.status == 404
            assert await resp.text() == "config data not exist\n"
        async with http.post(url, data=key | {"content": '{"a": "é"}', "type": "json"}) as resp:
            assert resp.status == 200
            assert await resp.json() is True
        async with http.get(url, params=key) as resp:
            assert resp.status == 200
            assert await resp.text() == '{"a": "é"}'
            assert resp.headers["Content-Type"].startswith("application/json")
            assert resp.headers["Config-Type"] == "json"
            md5 = hashlib.md5('{"a": "é"}'.encode()).hexdigest()
            assert resp.headers["Content-MD5"] == md5
            assert resp.headers["Cache-Control"] == "no-cache,no-store"
        async with http.delete(url, params=key) as resp:
            assert await resp.text() == "true"
        async with http.delete(url, params=key) as resp:  # deleting a missing one is fine too
            assert await resp.text() == "true"
        async with http.get(url, params=key) as resp:
            assert resp.status == 404


@pytest.mark.parametrize(("flavor", "body"), [
    ("2.x", "caused: Cas publish fail, server md5 may have changed.;"),
    ("3.1", "false"),
])  # fmt: skip
async def test_v1_cas_publish(http: aiohttp.ClientSession, flavor: str, body: str) -> None:
    async with NacosDevServer(auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        md5 = server.publish_config("app", "one")
        url = f"{server.url}{V1}"
        form = {"dataId": "app", "group": "DEFAULT_GROUP", "content": "two"}
        async with http.post(url, data=form, headers={"casMd5": "0" * 32}) as resp:
            assert resp.status == 500
            assert await resp.text() == body
        async with http.post(url, data=form, headers={"casMd5": md5}) as resp:
            assert resp.status == 200
        assert server.get_config("app") == "two"


@pytest.mark.parametrize(
    ("params", "status", "body"),
    [
        ({"group": "G"}, 400, None),
        ({"dataId": "bad id!", "group": "G"}, 400, "caused: invalid dataId : bad id!;"),
        ({"dataId": "ok", "group": "b/d"}, 400, "caused: invalid group : b/d;"),
        ({"dataId": "ok", "group": "G", "tenant": "x" * 129}, 400, None),
    ],
)
async def test_v1_get_bad_parameters(
    http: aiohttp.ClientSession, params: dict[str, str], status: int, body: str | None
) -> None:
    async with NacosDevServer(auth=False) as server:
        async with http.get(f"{server.url}{V1}", params=params) as resp:
            assert resp.status == status
            text = await resp.text()
        if body is not None:
            assert text == body
        elif "dataId" not in params:
            assert "Required request parameter 'dataId'" in text
            assert '"status":400' in text
        else:
            assert text == "caused: too long tenant, over 128;"


async def test_v1_publish_blank_content(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        form = {"dataId": "a", "group": "G", "content": "  "}
        async with http.post(f"{server.url}{V1}", data=form) as resp:
            assert resp.status == 400
            assert await resp.text() == "caused: content is blank :   ;"


def _probe(*entries: tuple[str, str, str] | tuple[str, str, str, str]) -> str:
    return "".join("\x02".join(e) + "\x01" for e in entries)


async def test_long_poll_returns_changed_keys_at_once(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        server.publish_config("a", "1", group="G")
        data = {"Listening-Configs": _probe(("a", "G", ""), ("c", "G", "", "dev"))}
        async with http.post(
            f"{server.url}{V1}/listener", data=data, headers={"Long-Pulling-Timeout": "30000"}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Cache-Control"] == "no-cache,no-store"
            # Only "a" differs ("c" is missing on both sides); no tenant sent -> none echoed.
            assert await resp.text() == "a%02G%01\n"


async def test_long_poll_wakes_within_100ms_of_a_publish(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        md5 = server.publish_config("a", "1", group="G", namespace="dev")
        data = {"Listening-Configs": _probe(("a", "G", md5, "dev"))}

        async def publish_when_parked() -> float:
            await server.wait_for_listeners(1)
            server.publish_config("a", "2", group="G", namespace="dev")
            return time.perf_counter()

        publisher = asyncio.create_task(publish_when_parked())
        async with http.post(
            f"{server.url}{V1}/listener", data=data, headers={"Long-Pulling-Timeout": "30000"}
        ) as resp:
            body = await resp.text()
            answered = time.perf_counter()
        published = await publisher
        assert body == "a%02G%02dev%01\n"
        assert answered - published < 0.1
        assert server.configs.listener_count == 0


async def test_long_poll_deletion_counts_as_change(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        md5 = server.publish_config("a", "1")
        data = {"Listening-Configs": _probe(("a", "DEFAULT_GROUP", md5))}

        async def delete_when_parked() -> None:
            await server.wait_for_listeners(1)
            server.configs.delete("public", "DEFAULT_GROUP", "a")

        task = asyncio.create_task(delete_when_parked())
        async with http.post(
            f"{server.url}{V1}/listener", data=data, headers={"Long-Pulling-Timeout": "30000"}
        ) as resp:
            assert await resp.text() == "a%02DEFAULT_GROUP%01\n"
        await task


async def test_idle_long_poll_returns_empty_after_hold(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False, long_poll_min_hold=0.2) as server:
        md5 = server.publish_config("a", "1")
        data = {"Listening-Configs": _probe(("a", "DEFAULT_GROUP", md5))}
        started = time.perf_counter()
        # Hold = max(min_hold, header - 0.5 s) = max(0.2, 0.6 - 0.5) = 0.2 s.
        async with http.post(
            f"{server.url}{V1}/listener", data=data, headers={"Long-Pulling-Timeout": "600"}
        ) as resp:
            assert resp.status == 200
            assert await resp.text() == ""
        assert 0.18 < time.perf_counter() - started < 1.0


async def test_no_hangup_returns_at_once(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        md5 = server.publish_config("a", "1")
        data = {"Listening-Configs": _probe(("a", "DEFAULT_GROUP", md5))}
        headers = {"Long-Pulling-Timeout": "30000", "Long-Pulling-Timeout-No-Hangup": "true"}
        started = time.perf_counter()
        async with http.post(f"{server.url}{V1}/listener", data=data, headers=headers) as resp:
            assert await resp.text() == ""
        assert time.perf_counter() - started < 1.0


async def test_v2_envelopes_and_codes(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        url = f"{server.url}/v2/cs/config"
        key = {"dataId": "a", "group": "G", "namespaceId": "public"}
        async with http.get(url, params=key) as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "code": 20004,
                "message": "resource not found",
                "data": "config data not exist",
            }
        async with http.post(url, data=key | {"content": "v"}) as resp:
            assert await resp.json() == {"code": 0, "message": "success", "data": True}
        async with http.get(url, params=key) as resp:
            assert await resp.json() == {"code": 0, "message": "success", "data": "v"}
        async with http.post(url, data=key | {"content": "w"}, headers={"casMd5": "x"}) as resp:
            assert resp.status == 500
            assert (await resp.json())["code"] == 20005
        async with http.get(url, params={"group": "G"}) as resp:
            assert resp.status == 400
            body = await resp.json()
            assert body["code"] == 10000
            assert body["message"] == "parameter missing"
        async with http.delete(url, params=key) as resp:
            assert (await resp.json())["data"] is True


async def test_v3_client_and_admin_config(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(flavor="3.2") as server:
        token = await login(http, server)
        auth = {"accessToken": token}
        client = f"{server.url}/v3/client/cs/config"
        admin = f"{server.url}/v3/admin/cs/config"
        key = {"dataId": "a.yaml", "groupName": "G"}
        async with http.get(client, params=key, headers=auth) as resp:
            assert resp.status == 200  # missing: 200 with code 20004
            assert await resp.json() == {
                "code": 20004,
                "message": "resource not found",
                "data": None,
            }
        async with http.get(admin, params=key, headers=auth) as resp:
            assert resp.status == 404
            assert (await resp.json())["data"] == "Config not exist, please publish Config first."
        form = key | {"content": "k: v", "type": "yaml"}
        async with http.post(admin, data=form, headers=auth) as resp:
            assert await resp.json() == {"code": 0, "message": "success", "data": True}
        async with http.get(client, params=key, headers=auth) as resp:
            data = (await resp.json())["data"]
            assert data["content"] == "k: v"
            assert data["md5"] == hashlib.md5(b"k: v").hexdigest()
            assert data["contentType"] == "yaml"
        async with http.get(admin, params=key, headers=auth) as resp:
            data = (await resp.json())["data"]
            assert (data["namespaceId"], data["groupName"], data["dataId"]) == (
                "public",
                "G",
                "a.yaml",
            )
        async with http.post(admin, data=form, headers=auth | {"casMd5": "nope"}) as resp:
            assert resp.status == 500
            assert (await resp.json())["code"] == 20005
        # The v3 client API only knows groupName; a missing one is the config module's 400.
        async with http.get(client, params={"dataId": "a.yaml", "group": "G"}, headers=auth) as r:
            assert r.status == 400
            assert await r.text() == (
                "caused: Required parameter 'groupName' type String is not present;"
            )
        async with http.delete(admin, params=key, headers=auth) as resp:
            assert (await resp.json())["data"] is True


async def test_configs_survive_restart_with_data_dir(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with NacosDevServer(auth=False, data_dir=tmp_path) as server:
        server.publish_config("kept", "1", namespace="dev")
        server.configs.create_namespace("dev", "Development")
        await server.restart(keep_state=False)
        assert server.get_config("kept", namespace="dev") == "1"
    async with NacosDevServer(auth=False, data_dir=tmp_path) as again:
        async with http.get(
            f"{again.url}{V1}", params={"dataId": "kept", "group": "DEFAULT_GROUP", "tenant": "dev"}
        ) as resp:
            assert await resp.text() == "1"
        assert "dev" in again.configs.namespaces


async def test_namespaces_v1_and_v3(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(auth=False) as server:
        async with http.post(
            f"{server.url}/v1/console/namespaces",
            data={"customNamespaceId": "dev", "namespaceName": "Dev"},
        ) as resp:
            assert await resp.json() is True
        async with http.get(f"{server.url}/v1/console/namespaces") as resp:
            rows = (await resp.json())["data"]
        assert [r["namespace"] for r in rows] == ["", "dev"]
    async with NacosDevServer(flavor="3.1") as server:
        token = await login(http, server)
        async with http.get(
            f"{server.url}/v3/admin/core/namespace/list", params={"accessToken": token}
        ) as resp:
            assert [r["namespace"] for r in (await resp.json())["data"]] == ["public"]
