"""Config over gRPC: query, publish, remove, batch listen, and pushes from gRPC and HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from nacos_async.testing import FakeClock, NacosDevCluster, NacosDevServer
from nacos_async.testing._config_store import md5_hex

from .._helpers import login
from ._client import advance, connected

G = "DEFAULT_GROUP"


def key(data_id: str = "app.yaml", tenant: str = "", md5: str = "") -> dict[str, str]:
    return {"dataId": data_id, "group": G, "tenant": tenant, "md5": md5}


@pytest.fixture
async def server() -> object:
    async with NacosDevServer(auth=False) as server:
        yield server


async def test_query_found_and_not_found(server: NacosDevServer) -> None:
    async with await connected(server, module="config") as client:
        kind, answer = await client.request("ConfigQueryRequest", {"dataId": "a", "group": G})
        assert (kind, answer["resultCode"], answer["errorCode"], answer["message"]) == (
            "ConfigQueryResponse",
            500,
            300,
            "config data not exist",
        )
        server.publish_config("a", "k: v", type="yaml")
        answer = await client.ok("ConfigQueryRequest", {"dataId": "a", "group": G, "tenant": ""})
        assert answer["content"] == "k: v"
        assert answer["md5"] == md5_hex("k: v")
        assert answer["contentType"] == "yaml"
        assert answer["lastModified"] == server.configs.get("public", G, "a").modify_time  # type: ignore[union-attr]
        assert "tag" not in answer  # null fields are omitted (the Python SDK wants a bool)


async def test_publish_with_addition_map_cas_and_remove(server: NacosDevServer) -> None:
    async with await connected(server, module="config") as client:
        body = {"dataId": "a", "group": G, "tenant": "", "content": "x: 1",
                "additionMap": {"type": "yaml", "appName": "shop", "src_user": "me"}}  # fmt: skip
        await client.ok("ConfigPublishRequest", body)
        item = server.configs.get("", G, "a")
        assert item is not None
        assert (item.content, item.type, item.app_name, item.src_user) == (
            "x: 1",
            "yaml",
            "shop",
            "me",
        )
        stale = {**body, "content": "x: 2", "casMd5": "0" * 32}
        kind, answer = await client.request("ConfigPublishRequest", stale)
        assert (kind, answer["errorCode"]) == ("ConfigPublishResponse", 500)
        assert answer["message"] == "Cas publish fail, server md5 may have changed."
        await client.ok("ConfigPublishRequest", {**stale, "casMd5": md5_hex("x: 1")})
        assert server.get_config("a") == "x: 2"
        _, blank = await client.request("ConfigPublishRequest", {**body, "content": "  "})
        assert (blank["errorCode"], blank["message"]) == (400, "content is blank :   ")
        _, bad = await client.request("ConfigPublishRequest", {**body, "dataId": "a/b"})
        assert bad["errorCode"] == 400
        assert bad["message"] == (
            "Param check invalid:Param 'dataId' is illegal, illegal characters should not "
            "appear in the param."
        )
        assert (await client.request("ConfigRemoveRequest", {"dataId": "a", "group": G}))[0] == (
            "ConfigRemoveResponse"
        )
        assert server.get_config("a") is None


async def test_batch_listen_reports_changed_keys_and_registers_listens(
    server: NacosDevServer,
) -> None:
    server.publish_config("same", "1")
    server.publish_config("other", "2")
    async with await connected(server, module="config") as client:
        contexts = [key("same", md5=md5_hex("1")), key("other", md5="stale"), key("missing")]
        answer = await client.ok("ConfigBatchListenRequest", {"listen": True,
                                                              "configListenContexts": contexts})  # fmt: skip
        assert answer["changedConfigs"] == [{"group": G, "dataId": "other", "tenant": ""}]
        [connection] = server.grpc.connections
        assert set(connection.listens) == {("public", G, n) for n in ("same", "other", "missing")}
        await client.ok("ConfigBatchListenRequest", {"listen": False,
                                                     "configListenContexts": [key("same")]})  # fmt: skip
        assert ("public", G, "same") not in connection.listens


@pytest.mark.parametrize(
    ("flavor", "tenant", "pushed"),
    [("2.x", "", ""), ("2.x", "public", ""), ("3.1", "", None), ("3.2", "public", "public")],
)
async def test_push_on_grpc_publish_names_the_tenant_per_flavor(
    flavor: str, tenant: str, pushed: str | None
) -> None:
    async with NacosDevServer(flavor=flavor, auth=False) as server:
        async with await connected(server, module="config") as listener, \
                await connected(server, module="config") as writer:  # fmt: skip
            await listener.ok(
                "ConfigBatchListenRequest", {"configListenContexts": [key(tenant=tenant)]}
            )
            await writer.ok("ConfigPublishRequest", {"dataId": "app.yaml", "group": G,
                                                     "tenant": tenant, "content": "v1"})  # fmt: skip
            push = (await listener.next_push("ConfigChangeNotifyRequest")).json()
            assert (push["dataId"], push["group"], push["module"]) == ("app.yaml", G, "config")
            assert push.get("tenant") == pushed
            assert ("tenant" in push) is (pushed is not None)
            assert "content" not in push
            await server.grpc.wait_until(lambda: server.stats.grpc_pushes["acked"] == 1)
            assert writer.no_push_queued()  # not listening: no push


async def test_push_on_http_publish_and_delete(
    server: NacosDevServer, http: aiohttp.ClientSession
) -> None:
    async with await connected(server, module="config") as client:
        await client.ok("ConfigBatchListenRequest", {"configListenContexts": [key()]})
        url = f"{server.url}/v1/cs/configs"
        form = {"dataId": "app.yaml", "group": G, "content": "over http"}
        async with http.post(url, data=form) as resp:
            assert resp.status == 200
        assert (await client.next_push()).type == "ConfigChangeNotifyRequest"
        async with http.delete(url, params={"dataId": "app.yaml", "group": G}) as resp:
            assert resp.status == 200
        assert (await client.next_push()).type == "ConfigChangeNotifyRequest"
        server.publish_config("unrelated", "x")
        await server.grpc.wait_until(lambda: server.stats.grpc_pushes["acked"] == 2)
        assert client.no_push_queued()


async def test_a_cluster_pushes_a_shared_config_change_to_listeners_on_every_node() -> None:
    async with NacosDevCluster(3, auth=False) as cluster:
        first, second, third = cluster.nodes
        async with await connected(second, module="config") as on_second, \
                await connected(third, module="config") as on_third:  # fmt: skip
            for client in (on_second, on_third):
                await client.ok("ConfigBatchListenRequest", {"configListenContexts": [key()]})
            first.publish_config("app.yaml", "v1")  # the nodes share one config store
            for client in (on_second, on_third):
                push = (await client.next_push("ConfigChangeNotifyRequest")).json()
                assert push["dataId"] == "app.yaml"
            await second.grpc.wait_until(lambda: second.stats.grpc_pushes["acked"] == 1)
            await third.grpc.wait_until(lambda: third.stats.grpc_pushes["acked"] == 1)
            assert first.stats.grpc_pushes["sent"] == 0  # nobody listens on the first node


async def test_unacked_push_is_retried_on_the_server_clock_and_drops_are_counted() -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        async with await connected(server, module="config", auto_ack=False) as client:
            await client.ok("ConfigBatchListenRequest", {"configListenContexts": [key()]})
            server.grpc.drop_pushes()
            server.publish_config("app.yaml", "v1")
            await server.grpc.wait_until(lambda: server.stats.grpc_pushes["dropped"] == 1)
            await advance(clock, 3)  # ack timeout: the first retry comes 2 s later
            assert server.stats.grpc_pushes["unacked"] == 1
            server.grpc.drop_pushes(False)
            await advance(clock, 2)
            first = await client.next_push("ConfigChangeNotifyRequest")
            await advance(clock, 3)  # not acked either: retried after 4 s
            assert server.stats.grpc_pushes["unacked"] == 2
            await advance(clock, 4)
            second = await client.next_push("ConfigChangeNotifyRequest")
            assert int(second.json()["requestId"]) > int(first.json()["requestId"])
            await client.ack(second)
            await server.grpc.wait_until(lambda: server.stats.grpc_pushes["acked"] == 1)
            assert server.stats.grpc_pushes["retried"] == 2
            assert server.stats.faults["grpc_drop_pushes"] == 1


async def test_fifty_unacked_config_pushes_close_the_connection() -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        async with await connected(server, module="config", auto_ack=False) as client:
            await client.ok("ConfigBatchListenRequest", {"configListenContexts": [key()]})
            server.grpc.drop_pushes()
            server.publish_config("app.yaml", "v1")
            for n in range(1, 51):
                await server.grpc.wait_until(lambda n=n: server.stats.grpc_pushes["dropped"] == n)
                await advance(clock, 3 + 2 * n)
            await server.grpc.wait_until(lambda: not server.grpc.connections)
            assert server.stats.grpc_pushes["gave_up"] == 1
            await client.stream_ended.wait()
            assert client.stream_error is None  # completed with OK, as Nacos closes


async def test_query_needs_a_token_when_auth_is_on(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer() as server:
        token = await login(http, server)
        server.publish_config("a", "1")
        async with await connected(server, module="config", token=token) as client:
            assert (await client.ok("ConfigQueryRequest", {"dataId": "a", "group": G}))[
                "content"
            ] == "1"
