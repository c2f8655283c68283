"""``transport``: auto picks gRPC when the extra is installed and the port answers, else HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import pytest

from nacos_async import NacosClient, NacosClosedError, NacosSettings
from nacos_async.testing import MockTransport, NacosDevServer, answer
from tests.grpc.helpers import config_connections

pytest.importorskip("grpclib")


async def test_auto_chooses_grpc_against_a_grpc_capable_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with NacosDevServer() as server:
        server.publish_config("app", "v1")
        with caplog.at_level(logging.INFO, logger="nacos_async"):
            async with NacosClient(server.address, username="nacos", password="nacos") as client:
                assert client.settings.transport == "auto"
                assert client.health().transport == "grpc"
                assert await client.config.get("app") == "v1"
                assert len(config_connections(server)) == 1
        assert "GET /v1/cs/configs" not in server.stats.requests
        assert any("transport_chosen transport=grpc" in r.getMessage() for r in caplog.records)


async def test_auto_chooses_http_when_the_server_has_no_grpc_port(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with NacosDevServer(grpc=False, flavor="3.2") as server:
        server.publish_config("app", "v1")
        with caplog.at_level(logging.INFO, logger="nacos_async"):
            async with NacosClient(server.address, username="nacos", password="nacos") as client:
                assert client.health().transport == "http"
                assert await client.config.get("app") == "v1"
                assert "grpc-config" not in client.health().services
        assert server.stats.requests["GET /v3/client/cs/config"] == 1
        [line] = [r.getMessage() for r in caplog.records if "transport_chosen" in r.getMessage()]
        assert "http" in line and "no gRPC answer" in line


async def test_auto_gives_up_on_a_silent_grpc_port_within_the_probe_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts TCP, never speaks HTTP/2
        writer.close()

    async with contextlib.AsyncExitStack() as stack:
        for _ in range(20):  # a silent port P + 1000 whose P is free for the HTTP side
            listener = await asyncio.start_server(silent, "127.0.0.1", 0)
            stack.push_async_callback(listener.wait_closed)
            stack.callback(listener.close)
            port = listener.sockets[0].getsockname()[1]
            if port > 2000:
                try:
                    server = NacosDevServer(grpc=False, auth=False, port=port - 1000)
                    await stack.enter_async_context(server)
                    break
                except OSError:
                    continue
        else:
            pytest.fail("no free port pair")
        client = NacosClient(server.address, request_timeout=0.3)
        async with client:
            assert client.health().transport == "http"
            await client.config.publish("app", "over http")
        assert server.get_config("app") == "over http"


async def test_a_custom_http_transport_keeps_auto_on_http_without_probing() -> None:
    transport = MockTransport(lambda request: answer(json={"status": "UP"}))
    async with NacosClient("nacos.invalid:8848", transport=transport) as client:
        assert client.health().transport == "http"


async def test_grpc_port_offset_moves_the_port_the_client_dials() -> None:
    async with NacosDevServer(auth=False) as server:
        server.publish_config("app", "v1")
        address = f"127.0.0.1:{server.port - 1}"  # nothing listens there; its gRPC port does
        async with NacosClient(address, transport="grpc", grpc_port_offset=1001) as client:
            assert await client.config.get("app") == "v1"


def test_grpc_without_the_extra_is_a_clear_error_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "grpclib", None)  # as if not installed
    with pytest.raises(ValueError, match=r"nacos-async\[grpc\]"):
        NacosClient("127.0.0.1:8848", transport="grpc")
    NacosClient("127.0.0.1:8848")  # auto is fine: it will use HTTP


async def test_auto_without_the_extra_uses_http(monkeypatch: pytest.MonkeyPatch) -> None:
    async with NacosDevServer(auth=False) as server:
        monkeypatch.setitem(sys.modules, "grpclib", None)
        async with NacosClient(server.address) as client:
            assert client.health().transport == "http"
            await client.config.publish("app", "over http")
        assert server.stats.grpc_requests == {}


def test_the_setting_is_validated_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match="'auto', 'http' or 'grpc'"):
        NacosSettings(transport="quic")
    with pytest.raises(ValueError, match="grpc_port_offset"):
        NacosSettings(grpc_port_offset=-1)
    monkeypatch.setenv("NACOS_TRANSPORT", "http")
    assert NacosSettings().transport == "http"
    assert NacosClient().settings.transport == "http"


async def test_config_taken_before_start_uses_the_transport_chosen_at_start() -> None:
    async with NacosDevServer(auth=False) as server:
        server.publish_config("app", "v1")
        client = NacosClient(server.address)
        config = client.config  # e.g. wired into an app before the client starts
        with pytest.raises(NacosClosedError, match="never started"):
            await config.get("app")
        async with client:
            assert await config.get("app") == "v1"
            assert client.health().transport == "grpc" and len(config_connections(server)) == 1


async def test_naming_taken_before_start_follows_the_same_choice_on_its_own_connection() -> None:
    async with NacosDevServer(auth=False) as server:
        client = NacosClient(server.address)
        naming = client.naming
        with pytest.raises(NacosClosedError, match="never started"):
            await naming.register_instance("orders", "10.0.0.5", 8080)
        assert naming.registered == []
        async with client:
            await naming.register_instance("orders", "10.0.0.5", 8080)
            await client.config.get("app", default=None)
            modules = sorted(c.labels["module"] for c in server.grpc.connections)
            assert modules == ["config", "naming"]  # one connection per module, as Nacos wants
            services = client.health().services
            assert services["naming"]["transport"] == "grpc"
            assert services["grpc-naming"]["instances"] == 1
        assert server.stats.grpc_requests["InstanceRequest"] == 2  # registered, deregistered
