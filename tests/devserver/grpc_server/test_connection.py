"""The gRPC port: identity, ServerCheck, setup and SetupAck, 301/302, health, wire errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest
from grpclib.client import Channel, UnaryUnaryMethod
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from nacos_async.grpc._grpclib import PayloadCodec
from nacos_async.grpc.codec import MAX_MESSAGE_BYTES, Payload
from nacos_async.testing import FLAVORS, NacosDevServer
from nacos_async.testing._grpc_flavors import GRPC_FLAVORS

from ._client import RawClient, connected


@pytest.fixture
async def server() -> object:
    async with NacosDevServer(auth=False) as server:
        yield server


async def test_grpc_port_is_http_port_plus_1000(server: NacosDevServer) -> None:
    assert server.grpc_enabled
    assert server.grpc_port == server.port + 1000
    assert server.grpc_address == f"127.0.0.1:{server.port + 1000}"


async def test_server_check_needs_no_registration_and_names_the_tcp_connection(
    server: NacosDevServer,
) -> None:
    async with RawClient(server) as client:
        answer = await client.server_check()
        again = await client.server_check()
        assert answer["supportAbilityNegotiation"] is True
        assert answer["connectionId"] == again["connectionId"]  # same TCP connection
        ms, ip, port = answer["connectionId"].split("_")
        assert ip == "127.0.0.1" and int(port) > 0 and int(ms) > 0
    async with RawClient(server) as other:
        assert (await other.server_check())["connectionId"] != answer["connectionId"]


async def test_unregistered_connection_gets_301_then_setup_registers_it(
    server: NacosDevServer,
) -> None:
    async with RawClient(server) as client:
        kind, answer = await client.request("HealthCheckRequest")
        assert (kind, answer["resultCode"], answer["errorCode"]) == ("ErrorResponse", 500, 301)
        assert answer["message"] == "Connection is unregistered."
        await client.connect()
        assert (await client.ok("HealthCheckRequest"))["success"] is True
        [connection] = server.grpc.connections
        assert connection.id == client.connection_id
        assert connection.labels == {"source": "sdk", "module": "naming"}
        assert connection.client_ip == "127.0.0.1"
    assert server.stats.grpc_errors[301] == 1
    assert server.stats.grpc_requests["HealthCheckRequest"] == 2


async def test_unknown_type_is_302(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        kind, answer = await client.request("LockOperationRequest")
        assert (kind, answer["errorCode"], answer["message"]) == (
            "ErrorResponse",
            302,
            "RequestHandler Not Found",
        )


async def test_bad_json_body_is_502(server: NacosDevServer) -> None:
    async with await connected(server) as client:
        reply = await client._unary(Payload("ConfigQueryRequest", body=b"{nope"))
        assert reply.type == "ErrorResponse"
        assert reply.json()["errorCode"] == 502
        assert "not JSON" in reply.json()["message"]


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_setup_ack_carries_the_flavor_abilities(flavor: str) -> None:
    async with NacosDevServer(flavor=flavor, auth=False) as server:
        async with RawClient(server) as client:
            await client.server_check()
            await client.open_stream()
            await client.setup(ability_table={"mcp": True})
            ack = await client.next_push()
            assert ack.type == "SetupAckRequest"
            body = ack.json()
            assert "requestId" not in body  # no ack expected
            assert body["abilityTable"] == dict(GRPC_FLAVORS[flavor].abilities)
            assert body["abilityTable"]["supportPersistentInstanceByGrpc"] is True
            assert ("fuzzyWatch" in body["abilityTable"]) is (flavor != "2.x")


async def test_every_flavor_has_a_grpc_row() -> None:
    assert set(FLAVORS) <= set(GRPC_FLAVORS)
    with pytest.raises(ValueError, match=r"no gRPC behaviour defined for flavor '9\.9'"):
        from nacos_async.testing._grpc_flavors import grpc_flavor

        grpc_flavor("9.9")


async def test_no_setup_ack_without_ability_table_and_first_setup_wins(
    server: NacosDevServer,
) -> None:
    async with RawClient(server) as client:
        await client.server_check()
        await client.open_stream()
        await client.setup(labels={"source": "sdk", "module": "config"})
        await server.grpc.wait_until(lambda: len(server.grpc.connections) == 1)
        await client.setup(labels={"module": "naming"}, ability_table={})
        assert (await client.ok("HealthCheckRequest"))["resultCode"] == 200
        assert client.no_push_queued()  # neither setup was answered with a SetupAck
        assert server.grpc.connections[0].labels == {"source": "sdk", "module": "config"}
    assert server.stats.grpc_connections["opened"] == 1


async def test_closing_the_channel_unregisters_and_counts(server: NacosDevServer) -> None:
    client = await connected(server)
    await client.close()
    await server.grpc.wait_until(lambda: not server.grpc.connections)
    assert server.stats.grpc_connections == {"opened": 1, "closed": 1}
    assert server.stats.as_dict()["grpc_connections"] == {"opened": 1, "closed": 1}


async def test_connections_send_without_delay_as_netty_does(server: NacosDevServer) -> None:
    """TCP_NODELAY: without it every unary answer waits ~40 ms for the client's delayed ACK."""
    async with await connected(server):
        [transport] = server.grpc._wire.transports.values() if server.grpc._wire else []
        sock = transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def test_acks_match_by_request_id_and_any_response_type(server: NacosDevServer) -> None:
    server.publish_config("a", "1")
    async with await connected(server, auto_ack=False) as client:
        listen = [{"dataId": "a", "group": "DEFAULT_GROUP", "tenant": "", "md5": ""}]
        await client.ok("ConfigBatchListenRequest", {"configListenContexts": listen})
        server.publish_config("a", "2")
        push = await client.next_push("ConfigChangeNotifyRequest")
        assert push.json()["requestId"].isdigit()
        stream = client.stream
        assert stream is not None
        from nacos_async.grpc.codec import json_payload

        wrong = {"resultCode": 200, "requestId": "999999"}
        await stream.send_message(json_payload("ConfigChangeNotifyResponse", wrong))
        failed = {"resultCode": 500, "requestId": push.json()["requestId"]}
        await stream.send_message(json_payload("ConfigChangeNotifyResponse", failed))
        await server.grpc.wait_until(lambda: server.stats.grpc_pushes["sent"] == 1)
        await client.ok("HealthCheckRequest")  # both acks were read before this answer
        assert server.stats.grpc_pushes["acked"] == 0
        server.publish_config("a", "3")
        second = await client.next_push("ConfigChangeNotifyRequest")
        await client.ack(second)  # typed NotifySubscriberResponse, as the Python SDK acks
        await server.grpc.wait_until(lambda: server.stats.grpc_pushes["acked"] == 1)
        assert int(second.json()["requestId"]) > int(push.json()["requestId"])


async def test_oversized_message_is_resource_exhausted(server: NacosDevServer) -> None:
    channel = Channel(server.host, server.grpc_port, codec=PayloadCodec(2 * MAX_MESSAGE_BYTES))
    method = UnaryUnaryMethod(channel, "/Request/request", Payload, Payload)
    try:
        with pytest.raises(GRPCError) as caught:
            await method(Payload("ServerCheckRequest", body=b"x" * (MAX_MESSAGE_BYTES + 1)))
        assert caught.value.status is Status.RESOURCE_EXHAUSTED
        assert "exceeds the maximum size 10485760" in (caught.value.message or "")
    finally:
        channel.close()


async def test_malformed_protobuf_is_internal(server: NacosDevServer) -> None:
    class RawBytes(PayloadCodec):
        def encode(self, message: object, message_type: object) -> bytes:
            return b"\x12\x05\x1a"  # a length past the end

    channel = Channel(server.host, server.grpc_port, codec=RawBytes())
    method = UnaryUnaryMethod(channel, "/Request/request", Payload, Payload)
    try:
        with pytest.raises(GRPCError) as caught:
            await method(Payload("ServerCheckRequest"))
        assert caught.value.status is Status.INTERNAL
        assert "length 5 past the end" in (caught.value.message or "")
    finally:
        channel.close()


async def test_grpc_off_serves_http_only() -> None:
    async with NacosDevServer(grpc=False) as server:
        assert not server.grpc_enabled
        with pytest.raises(RuntimeError, match="gRPC is off"):
            server.grpc_port  # noqa: B018
        with pytest.raises(RuntimeError, match="gRPC is off"):
            server.grpc.end_streams()


async def test_fixed_port_whose_grpc_port_is_taken_fails_clearly() -> None:
    with socket.socket() as http_probe:
        http_probe.bind(("127.0.0.1", 0))
        port = http_probe.getsockname()[1]
    with socket.socket() as blocker:
        try:
            blocker.bind(("127.0.0.1", port + 1000))
        except OSError:
            pytest.skip("the probe port's + 1000 is taken already")
        blocker.listen()
        server = NacosDevServer(port=port)
        with pytest.raises(OSError, match=rf"gRPC on 127.0.0.1:{port + 1000} .*grpc=False"):
            await server.start()
        await server.close()


async def test_port_zero_retries_until_the_pair_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    from nacos_async.testing import _grpc_side

    calls: list[int] = []
    real_bind = _grpc_side.GrpcSide.bind

    async def flaky_bind(self: _grpc_side.GrpcSide, host: str, port: int) -> None:
        calls.append(port)
        if len(calls) < 3:
            raise OSError(98, "Address already in use")
        await real_bind(self, host, port)

    monkeypatch.setattr(_grpc_side.GrpcSide, "bind", flaky_bind)
    async with NacosDevServer() as server:
        assert len(calls) == 3
        assert server.grpc_port == calls[-1] == server.port + 1000


def test_testing_imports_and_serves_http_without_grpclib() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        sys.modules["grpclib"] = None  # as if the [grpc] extra were not installed
        import nacos_async, nacos_async.testing
        from nacos_async.testing import NacosDevServer

        async def main():
            async with NacosDevServer() as server:
                assert not server.grpc_enabled and server.port
            try:
                NacosDevServer(grpc=True)
            except RuntimeError as exc:
                print(exc)
            assert not any(m.startswith("grpclib") and sys.modules[m] for m in sys.modules)

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "grpc=True needs grpclib" in done.stdout


def test_core_never_imports_grpclib_or_testing() -> None:
    script = (
        "import sys, nacos_async, nacos_async.client, nacos_async.grpc.codec; "
        "print(sorted(m for m in sys.modules if m.startswith(('grpclib', 'h2', "
        "'nacos_async.testing'))))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
