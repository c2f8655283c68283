"""gRPC auth (same tokens, users and switches as HTTP) and the gRPC fault switches."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from nacos_async.testing import FakeClock, NacosDevServer

from .._helpers import login
from ._client import RawClient, advance, connected

G = "DEFAULT_GROUP"
QUERY = {"dataId": "a", "group": G}


async def refused(client: RawClient, headers: dict[str, str] | None = None) -> str:
    kind, answer = await client.request("ConfigQueryRequest", QUERY, headers=headers)
    assert (kind, answer["resultCode"], answer["errorCode"]) == ("ConfigQueryResponse", 500, 403)
    message: str = answer["message"]
    return message


@pytest.mark.parametrize(
    ("flavor", "expired", "rotated", "missing"),
    [
        ("2.x", "token expired!", "Invalid signature", "user not found!"),
        ("3.1", "Code: 401, Message: token expired!.", "Code: 401, Message: Invalid signature.",
         "Code: 401, Message: User not found! Please check user exist or password is right!."),
    ],
)  # fmt: skip
async def test_token_failures_keep_the_connection(
    http: aiohttp.ClientSession, flavor: str, expired: str, rotated: str, missing: str
) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        server.publish_config("a", "1")
        async with await connected(server) as client:
            assert await refused(client) == missing  # no token, no user
            client.token = await login(http, server)
            assert (await client.ok("ConfigQueryRequest", QUERY))["content"] == "1"
            server.expire_tokens()
            assert await refused(client) == expired
            client.token = await login(http, server)
            server.rotate_secret()
            assert await refused(client) == rotated
            client.token = await login(http, server)
            assert (await client.ok("ConfigQueryRequest", QUERY))["content"] == "1"
            assert len(server.grpc.connections) == 1  # 403s never close the connection
            assert server.stats.forbidden == {missing: 1, expired: 1, rotated: 1}
            assert server.stats.grpc_errors[403] == 3


async def test_permissions_bearer_and_password_headers(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(flavor="3.2") as server:
        server.add_user("reader", "pw", permissions=[("public:DEFAULT_GROUP:config/*", "r")])
        server.publish_config("a", "1")
        async with await connected(server, module="config") as client:
            client.token = await login(http, server, "reader", "pw")
            assert (await client.ok("ConfigQueryRequest", QUERY))["content"] == "1"
            kind, answer = await client.request("ConfigPublishRequest", {**QUERY, "content": "2"})
            assert (kind, answer["errorCode"]) == ("ConfigPublishResponse", 403)
            assert answer["message"] == "Code: 403, Message: authorization failed!."
            client.token = None
            bearer = {"Authorization": f"Bearer {await login(http, server)}"}
            assert (await client.request("ConfigQueryRequest", QUERY, headers=bearer))[1][
                "resultCode"
            ] == 200
            password = {"username": "reader", "password": "pw"}
            assert (await client.request("ConfigQueryRequest", QUERY, headers=password))[1][
                "resultCode"
            ] == 200
            assert (await client.ok("HealthCheckRequest"))["resultCode"] == 200  # not secured


async def test_naming_requests_are_secured_and_auth_off_opens_them() -> None:
    body = {"namespace": "public", "serviceName": "s", "groupName": G, "cluster": ""}
    async with NacosDevServer() as server:
        async with await connected(server) as client:
            kind, answer = await client.request("ServiceQueryRequest", body)
            assert (kind, answer["errorCode"]) == ("QueryServiceResponse", 403)
    async with NacosDevServer(auth=False) as server:
        async with await connected(server) as client:
            assert (await client.ok("ServiceQueryRequest", body))["serviceInfo"]["hosts"] == []


# ----- fault switches ------------------------------------------------------------------------
@pytest.fixture
async def server() -> object:
    async with NacosDevServer(auth=False) as server:
        yield server


async def test_connect_reset_names_a_server_and_is_acked(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        result = await server.grpc.connect_reset("10.0.0.9", 8848)
        push = (await client.next_push("ConnectResetRequest")).json()
        assert (push["serverIp"], push["serverPort"], push["module"]) == ("10.0.0.9", "8848",
                                                                          "internal")  # fmt: skip
        assert result == {client.connection_id: True}
        assert server.stats.faults["grpc_connect_reset"] == 1


async def test_client_detection_closes_silent_connections() -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        async with await connected(server) as live, \
                await connected(server, auto_ack=False) as silent:  # fmt: skip
            probe = asyncio.get_running_loop().create_task(server.grpc.client_detection())
            assert (await live.next_push("ClientDetectionRequest")).json()["module"] == "internal"
            await silent.next_push("ClientDetectionRequest")
            await advance(clock, 5)
            assert await probe == {live.connection_id: True, silent.connection_id: False}
            await silent.stream_ended.wait()
            assert [c.id for c in server.grpc.connections] == [live.connection_id]


async def test_end_streams_completes_with_ok_and_closes_tcp(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        await client.ok("InstanceRequest", {"serviceName": "s", "groupName": G,
            "namespace": "public", "type": "registerInstance",
            "instance": {"ip": "1.1.1.1", "port": 1}})  # fmt: skip
        assert server.grpc.end_streams() == 1
        await client.stream_ended.wait()
        assert client.stream_error is None  # a normal end, as grpc.aio reports it (no error)
        await server.grpc.wait_until(lambda: not server.grpc.connections)
        assert server.naming.services[("public", G, "s")].instances == {}
        with pytest.raises(Exception):  # noqa: B017  the TCP connection is gone
            await client.request("HealthCheckRequest")


async def test_reset_streams_sends_rst_and_keeps_tcp(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        assert server.grpc.reset_streams() == 1
        await client.stream_ended.wait()
        assert client.stream_error is not None  # the client sees a broken stream
        await server.grpc.wait_until(lambda: not server.grpc.connections)
        kind, answer = await client.request("HealthCheckRequest")  # same TCP, unregistered
        assert (kind, answer["errorCode"]) == ("ErrorResponse", 301)


async def test_close_connections_aborts_tcp(server: NacosDevServer) -> None:
    async with await connected(server) as client, RawClient(server) as bare:
        await bare.server_check()  # connected but never set up: closed too
        assert server.grpc.close_connections() == 2
        await client.stream_ended.wait()
        assert client.stream_error is not None
        await server.grpc.wait_until(lambda: not server.grpc.connections)
        assert server.stats.grpc_connections["closed"] == 1


async def test_starting_answers_300_everywhere_then_recovers() -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, clock=clock) as server:
        server.grpc.set_starting(10)
        async with RawClient(server) as client:
            kind, answer = await client.request("ServerCheckRequest")
            assert (kind, answer["errorCode"], answer["message"]) == (
                "ErrorResponse", 300, "Server is starting,please try later.")  # fmt: skip
            await client.open_stream()
            await client.setup(ability_table={})  # an SDK setup is refused: stream ends OK
            await client.stream_ended.wait()
            assert client.stream_error is None and not server.grpc.connections
        await advance(clock, 10)
        async with await connected(server) as client:
            assert (await client.ok("HealthCheckRequest"))["resultCode"] == 200
        with pytest.raises(ValueError, match="must not be negative"):
            server.grpc.set_starting(-1)


async def test_restart_drops_every_connection(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        await server.restart()
        await client.stream_ended.wait()
        assert not server.grpc.connections
        async with await connected(server) as again:
            assert again.connection_id != client.connection_id


async def test_switches_over_http(server: NacosDevServer, http: aiohttp.ClientSession) -> None:
    base = f"http://{server.address}/__dev__"

    async def control(method: str, action: str, **params: str) -> object:
        async with http.request(method, f"{base}/{action}", params=params) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return body["result"]

    async with await connected(server) as client:
        [listed] = await control("GET", "grpc-connections")  # type: ignore[misc]
        assert listed["connectionId"] == client.connection_id
        assert await control("POST", "grpc-connect-reset", server_ip="h", server_port="1") == 1
        await client.next_push("ConnectResetRequest")
        assert await control("POST", "grpc-client-detection") == 1
        await client.next_push("ClientDetectionRequest")
        assert await control("POST", "grpc-drop-pushes", enabled="true") is True
        assert server.grpc.dropping_pushes
        assert await control("POST", "grpc-drop-pushes", enabled="false") is False
        assert await control("POST", "grpc-starting", seconds="0") == 0
        assert await control("POST", "grpc-reset-streams") == 1
        await client.stream_ended.wait()
    async with await connected(server) as client:
        assert await control("POST", "grpc-end-streams") == 1
        await client.stream_ended.wait()
    async with await connected(server) as client:
        assert await control("POST", "grpc-close-connections") == 1
        await client.stream_ended.wait()
    async with http.post(f"{base}/grpc-starting") as resp:
        assert resp.status == 400
    stats = await control("GET", "stats")
    assert stats["grpc_connections"]["opened"] == 3  # type: ignore[index]
    async with NacosDevServer(grpc=False) as plain:
        async with http.post(f"http://{plain.address}/__dev__/grpc-end-streams") as resp:
            assert resp.status == 400
            assert "gRPC is off" in (await resp.json())["error"]


async def test_latency_holds_unary_requests_until_the_server_stops(
    server: NacosDevServer,
) -> None:
    """The latency switch holds gRPC requests as it holds HTTP ones; a restart lets them go
    (on a connection the server no longer knows: no HealthCheckResponse)."""
    async with await connected(server) as client:
        server.set_latency(3600)
        held = asyncio.ensure_future(client.request("HealthCheckRequest", {}))
        async with asyncio.timeout(5):
            while server.stats.grpc_requests["HealthCheckRequest"] == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        server.set_latency(0)
        await server.restart()
        [outcome] = await asyncio.wait_for(asyncio.gather(held, return_exceptions=True), 5)
        assert isinstance(outcome, BaseException) or outcome[0] != "HealthCheckResponse", outcome
