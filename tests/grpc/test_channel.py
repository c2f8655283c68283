"""The gRPC channel against the dev server's gRPC side: setup, keepalive, every fault switch.

Each fault ends with the watcher converging to the last published value, including values
published while the client had no connection.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from nacos_async import NacosClient, NacosClosedError, NacosConnectionError, NacosProtocolError
from nacos_async.events import Event
from nacos_async.grpc.codec import MAX_MESSAGE_BYTES
from nacos_async.testing import FakeClock, NacosDevServer
from tests.grpc.helpers import (
    Recorder,
    client_tasks,
    config_connections,
    eventually,
    grpc_client,
)

pytest.importorskip("grpclib")


@pytest.fixture
async def server() -> AsyncIterator[NacosDevServer]:
    async with NacosDevServer(auth=False, flavor="3.2") as dev:
        yield dev


async def test_setup_registers_one_config_connection_with_its_labels_and_tenant() -> None:
    async with NacosDevServer(auth=False, flavor="2.x") as server:
        async with grpc_client(server, namespace="team-a") as client:
            assert client.health().transport == "grpc"
            assert await client.config.get("absent", default=None) is None
            [connection] = server.grpc.connections
            assert connection.labels["module"] == "config" and connection.labels["source"] == "sdk"
            assert connection.labels["tls.enable"] == "false"
            assert connection.tenant == "team-a"
            assert connection.client_ip == "127.0.0.1"  # from the connectionId the server gave
            health = client.health().services["grpc-config"]
            assert health["state"] == "connected" and health["connection_id"] == connection.id
            assert server.stats.grpc_requests["ConnectionSetupRequest"] == 1


async def test_nothing_connects_until_config_is_used(server: NacosDevServer) -> None:
    async with grpc_client(server) as client:
        assert client.config.get  # the service exists; its gRPC backend is built on first use
        assert client.health().services["config"]["mode"] is None
        assert "grpc-config" not in client.health().services and server.grpc.connections == []
        await client.config.publish("app", "v1")
        assert len(server.grpc.connections) == 1
        assert client.health().services["config"]["mode"] == "push"


async def test_client_detection_and_pushes_are_acked_with_their_request_id(
    server: NacosDevServer,
) -> None:
    async with grpc_client(server) as client:
        recorder = Recorder()
        await client.config.add_listener("app", recorder)
        assert await server.grpc.client_detection() == {c.id: True for c in server.grpc.connections}
        acked = server.stats.grpc_pushes["acked"]  # the probe's ack
        server.publish_config("app", "v1")
        await recorder.until("v1")
        await eventually(lambda: server.stats.grpc_pushes["acked"] == acked + 1)
        assert server.stats.grpc_pushes["unacked"] == 0
        assert len(server.grpc.connections) == 1  # the probe found us alive


async def test_an_idle_connection_sends_a_health_check_after_5_seconds(
    server: NacosDevServer,
) -> None:
    clock = FakeClock()
    async with grpc_client(server, clock=clock) as client:
        await client.config.get("app", default=None)
        await clock.settle()
        await clock.advance(4.9)
        assert server.stats.grpc_requests["HealthCheckRequest"] == 0
        await client.config.get("app", default=None)  # activity moves the next check
        await clock.advance(4.9)
        assert server.stats.grpc_requests["HealthCheckRequest"] == 0
        await clock.advance(0.2)
        await eventually(lambda: server.stats.grpc_requests["HealthCheckRequest"] == 1)
        await clock.settle()
        await clock.advance(5.0)
        await eventually(lambda: server.stats.grpc_requests["HealthCheckRequest"] == 2)
        assert client.health().services["grpc-config"]["reconnects"] == 0


async def test_a_health_check_answered_301_means_a_lost_connection(server: NacosDevServer) -> None:
    clock = FakeClock()
    async with grpc_client(server, clock=clock) as client:
        await client.config.get("app", default=None)
        [old] = server.grpc.connections
        server.grpc.unregister(old)  # the server forgot us; TCP and the stream stay open
        await clock.settle()
        await clock.advance(5.0)
        await eventually(lambda: len(server.grpc.connections) == 1)
        [new] = server.grpc.connections
        assert new.id != old.id and server.stats.grpc_errors[301] == 1
        health = client.health().services["grpc-config"]
        assert health["reconnects"] == 1 and "health check" in health["last_error"]


async def test_a_request_answered_301_reconnects_and_succeeds(server: NacosDevServer) -> None:
    server.publish_config("app", "v1")
    async with grpc_client(server) as client:
        assert await client.config.get("app") == "v1"
        [old] = server.grpc.connections
        server.grpc.unregister(old)
        assert await client.config.get("app") == "v1"
        assert server.stats.grpc_errors[301] == 1
        assert [c.id for c in server.grpc.connections] != [old.id]


async def _end_streams(server: NacosDevServer) -> None:
    server.grpc.end_streams()


async def _reset_streams(server: NacosDevServer) -> None:
    server.grpc.reset_streams()


async def _close_connections(server: NacosDevServer) -> None:
    server.grpc.close_connections()


async def _connect_reset(server: NacosDevServer) -> None:
    assert all((await server.grpc.connect_reset()).values())  # acked


async def _restart(server: NacosDevServer) -> None:
    await server.restart()


async def _restart_publishing_while_down(server: NacosDevServer) -> None:
    await server.pause()
    server.publish_config("app", "while-down")  # no connection: nobody is told
    await server.resume()


Fault = Callable[[NacosDevServer], Awaitable[None]]
FAULTS: dict[str, Fault] = {
    "stream ended with OK": _end_streams,
    "stream reset": _reset_streams,
    "TCP connection closed": _close_connections,
    "ConnectResetRequest": _connect_reset,
    "server restart": _restart,
    "publish while the server is down": _restart_publishing_while_down,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_after_each_fault_the_client_reconnects_relistens_and_the_watcher_converges(
    fault: str, server: NacosDevServer
) -> None:
    server.publish_config("app", "v0")
    async with grpc_client(server) as client:
        recorder = Recorder()
        await client.config.add_listener("app", recorder)
        [old] = server.grpc.connections
        await FAULTS[fault](server)
        await eventually(lambda: [c.id for c in config_connections(server)] not in ([], [old.id]))
        if server.get_config("app") == "while-down":
            await recorder.until("while-down")  # re-read after the reconnect, no push needed
        server.publish_config("app", "after")
        await recorder.until("after")
        assert await client.config.get("app") == "after"
        [new] = server.grpc.connections
        assert new.listens, "the new connection listens again"
        assert client.health().services["grpc-config"]["reconnects"] == 1
        assert client.health().ok


async def test_a_connect_reset_naming_another_server_moves_the_connection_there() -> None:
    async with NacosDevServer(auth=False) as a, NacosDevServer(auth=False) as b:
        for node in (a, b):
            node.publish_config("app", "v0")
        async with grpc_client(a, b) as client:
            recorder = Recorder()
            await client.config.add_listener("app", recorder)
            here, there = (a, b) if a.grpc.connections else (b, a)
            assert await here.grpc.connect_reset(there.host, there.port)
            await eventually(lambda: len(there.grpc.connections) == 1 and not here.grpc.connections)
            there.publish_config("app", "moved")
            await recorder.until("moved")


async def test_a_starting_server_fails_requests_fast_and_serves_them_once_started() -> None:
    server_clock = FakeClock()
    async with NacosDevServer(auth=False, clock=server_clock) as server:
        server.publish_config("app", "v1")
        async with grpc_client(server, request_timeout=30) as client:
            assert await client.config.get("app") == "v1"
            server.grpc.set_starting(30)  # every unary call: "Server is starting" (300)
            server.grpc.end_streams()
            with pytest.raises(NacosConnectionError, match=r"3 attempt.*starting"):
                await client.config.get("app")
            assert server.stats.grpc_errors[300] >= 3
            await server_clock.advance(30)
            assert await client.config.get("app") == "v1"
            assert client.health().services["grpc-config"]["state"] == "connected"


async def test_lost_pushes_are_caught_by_the_periodic_recheck() -> None:
    server_clock, clock = FakeClock(), FakeClock()  # no push retry, no recheck unless told
    async with NacosDevServer(auth=False, clock=server_clock) as server:
        server.publish_config("app", "v0")
        async with grpc_client(server, clock=clock, config_recheck_interval=60) as client:
            recorder = Recorder()
            await client.config.add_listener("app", recorder)
            await server.grpc.wait_until(lambda: bool(server.grpc.connections[0].listens))
            server.grpc.drop_pushes()
            server.publish_config("app", "v1")
            await eventually(lambda: server.stats.grpc_pushes["dropped"] == 1)
            listens = server.stats.grpc_requests["ConfigBatchListenRequest"]
            await clock.settle()
            await clock.advance(59)
            assert (
                recorder.seen == []
                and server.stats.grpc_requests["ConfigBatchListenRequest"] == listens
            )
            await clock.advance(1)
            await recorder.until("v1")


async def test_reconnects_back_off_with_jitter_and_move_across_the_servers() -> None:
    async with NacosDevServer(auth=False) as a, NacosDevServer(auth=False) as b:
        b.publish_config("app", "from-b")
        failures: list[Event] = []
        async with grpc_client(a, b, retry_backoff=0.05) as client:
            client.add_event_hook(
                lambda e: failures.append(e) if e.kind == "grpc_connect_failed" else None
            )
            recorder = Recorder()
            await client.config.add_listener("app", recorder)  # keeps the connection wanted
            await a.pause()
            await b.pause()
            await eventually(lambda: len(failures) >= 5)
            servers = [e.attrs["server"] for e in failures[:4]]
            assert set(servers) == {a.address, b.address}  # it moves on after each failure
            delays = [e.attrs["retry_in"] for e in failures[:5]]
            for attempt, delay in enumerate(delays, 1):
                ceiling = min(5.0, 0.05 * 2 ** (attempt - 1))
                assert ceiling / 2 <= delay <= ceiling  # exponential, capped, jittered
            assert len(set(delays)) == len(delays)
            health = client.health()
            assert health.services["grpc-config"]["state"] == "connecting"
            assert (
                not health.ok
                and "connection failing" in health.services["grpc-config"]["problems"][0]
            )
            await b.resume()
            b.publish_config("app", "after")
            await recorder.until("after")
            assert await client.config.get("app") == "after"
            assert client.health().ok


async def test_close_drops_the_connection_and_leaves_no_task(server: NacosDevServer) -> None:
    client = grpc_client(server)
    async with client:
        await client.config.add_listener("app", lambda _: None)
        assert len(server.grpc.connections) == 1
    await server.grpc.wait_until(lambda: not server.grpc.connections)
    assert client.health().services["grpc-config"]["state"] == "closed"
    await asyncio.sleep(0)
    assert client_tasks() == []
    with pytest.raises(NacosClosedError):
        await client.config.get("app")


async def test_close_from_inside_a_listener_ends_closed(server: NacosDevServer) -> None:
    client = grpc_client(server)
    closed = asyncio.Event()

    async def on_change(_: object) -> None:
        await client.close(timeout=2)
        closed.set()

    async with client:
        await client.config.add_listener("app", on_change)
        server.publish_config("app", "v1")
        await asyncio.wait_for(closed.wait(), 10)
    assert client.health().state == "closed"
    await server.grpc.wait_until(lambda: not server.grpc.connections)


async def test_a_request_waiting_for_a_connection_ends_closed_when_the_client_closes(
    server: NacosDevServer,
) -> None:
    client = grpc_client(server, request_timeout=30)
    async with client:
        await server.pause()
        pending = asyncio.ensure_future(client.config.get("app"))
        await eventually(
            lambda: client.health().services.get("grpc-config", {}).get("failures", 0) >= 1
        )
    with pytest.raises(NacosClosedError):
        await pending


async def test_a_request_whose_connection_attempt_hangs_fails_within_its_deadline() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts TCP, never speaks HTTP/2
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        client = NacosClient(f"127.0.0.1:{port - 1000}", transport="grpc", request_timeout=0.3)
        async with client:
            # the deadline or the (as long) connection attempt ends it, whichever comes first
            with pytest.raises(NacosConnectionError, match=r"no gRPC connection"):
                await client.config.get("app")
    finally:
        listener.close()
        await listener.wait_closed()


def test_a_client_used_from_another_event_loop_raises_a_typed_error() -> None:
    async def scenario() -> None:
        async with NacosDevServer(auth=False) as server, grpc_client(server) as client:
            await client.config.get("app", default=None)
            errors: list[BaseException] = []

            def other_thread() -> None:
                try:
                    asyncio.run(client.config.get("app", default=None))
                except BaseException as exc:
                    errors.append(exc)

            thread = threading.Thread(target=other_thread)
            thread.start()
            await asyncio.to_thread(thread.join)
            assert isinstance(errors[0], NacosClosedError), errors
            assert "another event loop" in str(errors[0])

    asyncio.run(scenario())


async def test_messages_over_10_mib_are_refused_both_ways(server: NacosDevServer) -> None:
    server.publish_config("huge", "x" * (MAX_MESSAGE_BYTES + 1))
    server.publish_config("small", "ok")
    async with grpc_client(server) as client:
        with pytest.raises(NacosProtocolError, match="exceeds the maximum size"):
            await client.config.get("huge")
        assert await client.config.get("small") == "ok"  # the connection is still fine
        with pytest.raises(ValueError, match="exceeds the gRPC message limit"):
            await client.config.publish("big", "y" * MAX_MESSAGE_BYTES)
        assert server.get_config("big") is None


async def test_the_client_closes_its_connection_when_used_as_a_context(
    server: NacosDevServer,
) -> None:
    async with NacosClient(server.address, transport="grpc") as client:
        await client.config.get("app", default=None)
    await server.grpc.wait_until(lambda: not server.grpc.connections)
    assert server.stats.grpc_connections["closed"] == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
async def test_a_client_used_after_fork_raises_a_typed_error_in_the_child(
    server: NacosDevServer,
) -> None:
    server.publish_config("app", "v1")
    async with grpc_client(server) as client:
        assert await client.config.get("app") == "v1"
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: a fresh loop, the parent's client and connection
            os.close(read)
            try:
                asyncio.new_event_loop().run_until_complete(client.config.get("app"))
                outcome = "no error"
            except NacosClosedError as exc:
                outcome = "closed: child process" if "child process" in str(exc) else str(exc)
            except BaseException as exc:
                outcome = repr(exc)
            os.write(write, outcome.encode())
            os._exit(0)
        os.close(write)
        _, status = await asyncio.to_thread(os.waitpid, pid, 0)
        outcome = os.read(read, 1000).decode()
        os.close(read)
        assert await client.config.get("app") == "v1"  # the parent's connection is untouched
        assert client.health().services["grpc-config"]["reconnects"] == 0
    assert os.waitstatus_to_exitcode(status) == 0
    assert outcome == "closed: child process"
