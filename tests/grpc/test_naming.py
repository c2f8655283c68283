"""Naming over gRPC: connection-bound instances, batches, queries, pushed watches and redo."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from nacos_async import Instance, NacosApiUnavailableError, NacosClient, NacosConnectionError
from nacos_async.events import Event
from nacos_async.grpc.codec import Payload
from nacos_async.testing import FLAVORS, FakeClock, Flavor, NacosDevServer, _grpc_flavors
from nacos_async.testing._naming_store import InstanceRecord
from tests.grpc.helpers import WAIT, eventually, grpc_client

pytest.importorskip("grpclib")

SVC = ("public", "DEFAULT_GROUP", "orders")


def on_server(server: NacosDevServer, service: str = "orders") -> dict[tuple[str, int], str]:
    """The instances of ``service`` on the server: address -> the connection owning it."""
    found = server.naming.service("public", "DEFAULT_GROUP", service)
    return {key: inst.owner for key, inst in found.instances.items()} if found else {}


def naming_connections(server: NacosDevServer) -> list[Any]:
    return [c for c in server.grpc.connections if c.labels.get("module") == "naming"]


def record_requests(server: NacosDevServer) -> list[tuple[str, dict[str, Any]]]:
    """Every unary request the server receives: (type, JSON body)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = server.grpc.unary

    async def unary(peer: Any, payload: Payload) -> Payload:
        seen.append((payload.type, payload.json()))
        return await original(peer, payload)

    server.grpc.unary = unary  # type: ignore[method-assign]
    return seen


Hosts = list[tuple[str, int]]


class Watch:
    """Consumes ``client.naming.watch`` in a task; keeps every list it yields."""

    def __init__(self, client: NacosClient, service: str = "orders", **options: Any) -> None:
        self.seen: list[Hosts] = []
        self._changed = asyncio.Event()
        self._task = asyncio.ensure_future(self._consume(client, service, options))

    async def _consume(self, client: NacosClient, service: str, options: dict[str, Any]) -> None:
        async for hosts in client.naming.watch(service, initial=True, **options):
            self.put(hosts)

    def put(self, hosts: list[Instance]) -> None:
        self.seen.append(sorted((h.ip, h.port) for h in hosts))
        self._changed.set()

    async def until(self, predicate: Callable[[Hosts], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not self.seen or not predicate(self.seen[-1]):
                self._changed.clear()
                await self._changed.wait()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class Listener(Watch):
    """A ``subscribe`` listener: told every list delivered (a watch may skip to the latest)."""

    def __init__(self) -> None:
        self.seen = []
        self._changed = asyncio.Event()

    def __call__(self, hosts: list[Instance]) -> None:
        self.put(hosts)


@pytest.fixture
async def server() -> AsyncIterator[NacosDevServer]:
    async with NacosDevServer(auth=False, flavor="3.2") as dev:
        yield dev


# ----- registration ----------------------------------------------------------------------------
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_one_instance_a_batch_of_several_and_deregistering_down_to_none(
    flavor: Flavor,
) -> None:
    async with NacosDevServer(flavor=flavor) as server, grpc_client(server) as client:
        requests = record_requests(server)
        naming = client.naming
        await naming.register_instance("orders", "10.0.0.5", 8080, metadata={"v": "1"})
        [connection] = naming_connections(server)
        assert on_server(server) == {("10.0.0.5", 8080): connection.id}
        await naming.register_instance("orders", "10.0.0.6", 8080, cluster="east")
        await naming.register_instance("billing", "10.0.0.5", 9090)
        assert set(on_server(server)) == {("10.0.0.5", 8080), ("10.0.0.6", 8080)}
        await naming.deregister_instance("orders", "10.0.0.5", 8080)  # the rest, as a batch
        assert set(on_server(server)) == {("10.0.0.6", 8080)}
        await naming.deregister_instance("orders", "10.0.0.6", 8080, cluster="east")
        assert on_server(server) == {} and set(on_server(server, "billing")) == {("10.0.0.5", 9090)}
        requests = [(kind, body) for kind, body in requests if kind.endswith("InstanceRequest")]
        kinds = [(kind, body.get("type")) for kind, body in requests]
        assert kinds == [
            ("InstanceRequest", "registerInstance"),
            ("BatchInstanceRequest", "batchRegisterInstance"),
            ("InstanceRequest", "registerInstance"),
            ("InstanceRequest", "registerInstance"),  # orders: the one left
            ("InstanceRequest", "deregisterInstance"),
        ]
        batch = requests[1][1]
        assert [(i["ip"], i["clusterName"], i["metadata"]) for i in batch["instances"]] == [
            ("10.0.0.5", "DEFAULT", {"v": "1"}), ("10.0.0.6", "east", {})]  # fmt: skip
        assert (batch["namespace"], batch["groupName"], batch["serviceName"]) == (
            "public", "DEFAULT_GROUP", "orders")  # fmt: skip
        assert connection.labels["module"] == "naming"
        assert not any("/ns/" in route for route in server.stats.requests)  # no HTTP naming
        assert client.stats.heartbeats == 0


async def test_concurrent_changes_to_one_service_end_as_the_client_holds_them(
    server: NacosDevServer,
) -> None:
    """Each send carries the whole set, one at a time: whatever order the server sees them in,
    it ends with the client's set (changes made meanwhile go out together)."""
    async with grpc_client(server) as client:
        naming = client.naming
        await asyncio.gather(
            *(naming.register_instance("orders", f"10.0.1.{i}", 80) for i in range(1, 21))
        )
        assert len(on_server(server)) == 20
        await asyncio.gather(
            *(naming.deregister_instance("orders", f"10.0.1.{i}", 80) for i in range(1, 16))
        )
        assert sorted(on_server(server)) == [(f"10.0.1.{i}", 80) for i in range(16, 21)]
        requests = server.stats.grpc_requests
        assert requests["BatchInstanceRequest"] + requests["InstanceRequest"] < 35  # coalesced


async def test_queries_list_every_cluster_filter_and_page_services_of_the_group_only(
    server: NacosDevServer,
) -> None:
    async with grpc_client(server) as client:
        naming = client.naming
        await naming.register_instance("orders", "10.0.0.5", 8080)
        await naming.register_instance("orders", "10.0.0.6", 8080, cluster="east", weight=3)
        await naming.register_instance("orders", "10.0.0.7", 8080, healthy=False)
        await naming.register_instance("orders", "10.0.0.8", 8080, enabled=False)
        listed = {(h.ip, h.cluster_name) for h in await naming.list_instances("orders")}
        assert listed == {("10.0.0.5", "DEFAULT"), ("10.0.0.6", "east"), ("10.0.0.7", "DEFAULT")}
        east = await naming.list_instances("orders", clusters=["east"])
        assert [(h.ip, h.weight) for h in east] == [("10.0.0.6", 3.0)]
        healthy = await naming.list_instances("orders", healthy_only=True)
        assert {h.ip for h in healthy} == {"10.0.0.5", "10.0.0.6"}
        assert (await naming.select_instance("orders", clusters=["east"])).ip == "10.0.0.6"
        for name in ("a", "b", "c"):
            await naming.register_instance(name, "10.0.0.5", 1, group="G")
        await naming.register_instance("other", "10.0.0.5", 1, group="G2")
        first = await naming.list_services(group="G", page=1, page_size=2)
        second = await naming.list_services(group="G", page=2, page_size=2)
        assert (first.count, second.count) == (3, 3)
        assert sorted(first.names + second.names) == ["a", "b", "c"]
        assert await naming.list_instances("nobody") == []
        assert server.stats.grpc_requests["ServiceQueryRequest"] == 5
        assert not any("/ns/" in route for route in server.stats.requests)


async def test_a_server_without_batches_refuses_a_second_instance_and_keeps_the_first(
    server: NacosDevServer,
) -> None:
    """Nacos 2.0.x has no BatchInstanceRequest (302): the error says what to do, and the
    client's set is what the server still holds."""
    del server.grpc.routes["BatchInstanceRequest"]
    async with grpc_client(server) as client:
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        with pytest.raises(NacosApiUnavailableError) as info:
            await client.naming.register_instance("orders", "10.0.0.6", 8080)
        assert "transport='http'" in "".join(getattr(info.value, "__notes__", []))
        assert [s.ip for s in client.naming.registered] == ["10.0.0.5"]
        assert set(on_server(server)) == {("10.0.0.5", 8080)}
        await client.naming.register_instance("billing", "10.0.0.6", 8080)  # one per service: fine
        assert client.health().services["naming"]["pending_registrations"] == []


@pytest.mark.parametrize("supported", [True, False])
async def test_persistent_instances_over_grpc_where_the_server_says_so_else_http(
    supported: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Java's rule: PersistentInstanceRequest only when SetupAck advertises
    supportPersistentInstanceByGrpc (2.3+); a 2.2 server gets the HTTP API."""
    if not supported:
        v22 = dataclasses.replace(_grpc_flavors.V2, abilities={})
        monkeypatch.setitem(_grpc_flavors.GRPC_FLAVORS, "2.x", v22)
    async with NacosDevServer(auth=False, flavor="2.x") as server, grpc_client(server) as client:
        await client.naming.register_instance("orders", "10.0.0.9", 1, ephemeral=False)
        assert on_server(server) == {("10.0.0.9", 1): ""}  # no owner: outlives the connection
        over_grpc = server.stats.grpc_requests["PersistentInstanceRequest"]
        over_http = server.stats.requests["POST /v1/ns/instance"]
        assert (over_grpc, over_http) == ((1, 0) if supported else (0, 1))
        await client.naming.deregister_instance("orders", "10.0.0.9", 1, ephemeral=False)
        assert on_server(server) == {}
    assert client.stats.heartbeats == 0


async def test_update_registers_the_clients_own_instance_again_and_others_over_http(
    server: NacosDevServer,
) -> None:
    async with grpc_client(server, username="nacos", password="nacos") as client:
        naming = client.naming
        await naming.register_instance(
            "orders", "10.0.0.5", 8080, metadata={"v": "1"}, healthy=False
        )
        await naming.update_instance("orders", "10.0.0.5", 8080, weight=5, metadata={"v": "2"})
        [host] = await naming.list_instances("orders")
        assert (host.weight, host.metadata, host.healthy) == (5.0, {"v": "2"}, False)
        assert naming.registered[0].weight == 5.0  # what a redo registers from now on
        assert server.stats.grpc_requests["InstanceRequest"] == 2
        assert not any("/ns/" in route for route in server.stats.requests)
        form = {"serviceName": "orders", "ip": "10.0.0.9", "port": "1"}
        await client.request("POST", "/v3/client/ns/instance", data=form)  # another registrar
        await naming.update_instance("orders", "10.0.0.9", 1, weight=2)  # not ours: HTTP
        assert server.stats.requests["PUT /v3/admin/ns/instance"] == 1
        assert {h.ip: h.weight for h in await naming.list_instances("orders")}["10.0.0.9"] == 2
        await naming.deregister_instance("orders", "10.0.0.9", 1)  # not ours: HTTP too
        assert set(on_server(server)) == {("10.0.0.5", 8080)}


# ----- liveness ----------------------------------------------------------------------------------
async def test_an_instance_stays_registered_for_minutes_with_no_heartbeat_traffic() -> None:
    """Ten minutes of fake time (client and server): the instance stays and is healthy, and the
    only traffic is the connection's keepalive, one HealthCheck per 5 s idle."""
    clock = FakeClock()
    async with NacosDevServer(auth=False, flavor="3.2", clock=clock) as server:
        async with grpc_client(server, clock=clock) as client:
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            await clock.settle()
            http_before = sum(server.stats.requests.values())
            grpc_before = server.stats.grpc_requests.copy()
            for step in range(120):
                await clock.advance(5.0)
                await eventually(
                    lambda s=step: server.stats.grpc_requests["HealthCheckRequest"] >= s + 1
                )
            assert on_server(server) == {("10.0.0.5", 8080): naming_connections(server)[0].id}
            [host] = await client.naming.list_instances("orders")
            assert host.healthy
            sent = server.stats.grpc_requests - grpc_before
            assert sent == {"HealthCheckRequest": 120, "ServiceQueryRequest": 1}
            assert sum(server.stats.requests.values()) == http_before  # not one HTTP request
            assert client.stats.heartbeats == 0
            assert client.health().services["grpc-naming"]["reconnects"] == 0


async def test_a_killed_process_leaves_no_instance_behind(server: NacosDevServer) -> None:
    """A child registers over gRPC and is killed with SIGKILL (no close, no deregistration): the
    server drops the instance with the connection, at once (HTTP would keep it 30 s)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, server.address, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"registered"
        assert set(on_server(server)) == {("10.0.0.5", 8080)}
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), WAIT) == -signal.SIGKILL
        await server.grpc.wait_until(lambda: not on_server(server), within=WAIT)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


_CHILD = """
import asyncio, sys
from nacos_async import NacosClient

async def main():
    async with NacosClient(sys.argv[1], transport="grpc") as client:
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        print("registered", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


# ----- watching ----------------------------------------------------------------------------------
async def test_watches_are_pushed_every_change_with_one_subscription_per_service(
    server: NacosDevServer,
) -> None:
    async with grpc_client(server) as client, grpc_client(server) as other:
        everything = Watch(client)
        east = Watch(client, clusters=["east"])
        await everything.until(lambda hosts: hosts == [])
        await east.until(lambda hosts: hosts == [])
        await other.naming.register_instance("orders", "10.0.0.5", 8080)
        await everything.until(lambda hosts: hosts == [("10.0.0.5", 8080)])
        await other.naming.register_instance("orders", "10.0.0.6", 8080, cluster="east")
        await everything.until(lambda hosts: len(hosts) == 2)
        await east.until(lambda hosts: hosts == [("10.0.0.6", 8080)])
        form = {"serviceName": "orders", "ip": "10.0.0.7", "port": "1"}
        await other.request("POST", "/v3/client/ns/instance", data=form)  # HTTP: pushed too
        await everything.until(lambda hosts: ("10.0.0.7", 1) in hosts)
        assert east.seen == [[], [("10.0.0.6", 8080)]]  # only what its cluster saw change
        [connection] = [c for c in naming_connections(server) if c.subscriptions]
        assert connection.subscriptions == {SVC: ""}  # all clusters, filtered by the client
        assert server.stats.grpc_requests["SubscribeServiceRequest"] == 1
        assert server.stats.grpc_requests["ServiceQueryRequest"] == 0  # no polling
        await east.close()
        assert connection.subscriptions == {SVC: ""}  # still watched by the other
        await everything.close()
        await server.grpc.wait_until(lambda: not connection.subscriptions)
        assert client.health().services["naming"]["watched_services"] == 0


async def test_subscribe_calls_back_on_pushes_and_unsubscribe_stops_them(
    server: NacosDevServer,
) -> None:
    async with grpc_client(server) as client:
        seen: list[list[Instance]] = []
        changed = asyncio.Event()

        def on_change(hosts: list[Instance]) -> None:
            seen.append(hosts)
            changed.set()

        await client.naming.subscribe("orders", on_change)
        server.naming.register(*SVC, _record("10.0.0.5", 8080))
        await asyncio.wait_for(changed.wait(), WAIT)
        assert [h.ip for h in seen[-1]] == ["10.0.0.5"]
        await client.naming.unsubscribe("orders", on_change)
        await server.grpc.wait_until(lambda: not naming_connections(server)[0].subscriptions)
        assert len(seen) == 1


# ----- redo after a reconnect --------------------------------------------------------------------
async def _restart_empty(server: NacosDevServer) -> None:
    await server.restart(keep_state=False)


async def _restart(server: NacosDevServer) -> None:
    await server.restart()


async def _connect_reset(server: NacosDevServer) -> None:
    assert all((await server.grpc.connect_reset()).values())


async def _end_streams(server: NacosDevServer) -> None:
    server.grpc.end_streams()


async def _close_connections(server: NacosDevServer) -> None:
    server.grpc.close_connections()


async def _unregister(server: NacosDevServer) -> None:
    for connection in server.grpc.connections:
        server.grpc.unregister(connection)  # TCP stays up: the next health check finds 301


FAULTS: dict[str, Callable[[NacosDevServer], Awaitable[None]]] = {
    "server restart losing state": _restart_empty,
    "server restart": _restart,
    "ConnectResetRequest": _connect_reset,
    "stream ended with OK": _end_streams,
    "TCP connections dropped": _close_connections,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_after_a_reconnect_registrations_and_subscriptions_are_back_within_1s(
    fault: str, server: NacosDevServer
) -> None:
    """Measured from the new connection's ``grpc_connected`` event: every instance registered
    again (a batch, a single one) and the watch subscribed again; the watch never sees the empty
    list a restarted server first answers, and it follows the changes made after."""
    async with grpc_client(server) as client:
        connected: list[float] = []

        def hook(event: Event) -> None:
            if event.kind == "grpc_connected" and event.attrs["module"] == "naming":
                connected.append(time.monotonic())

        client.add_event_hook(hook)
        naming = client.naming
        for ip in ("10.0.0.5", "10.0.0.6"):
            await naming.register_instance("orders", ip, 8080)
        await naming.register_instance("billing", "10.0.0.5", 9090)
        watch = Listener()
        await naming.subscribe("orders", watch)
        [old] = naming_connections(server)
        await FAULTS[fault](server)

        def redone() -> bool:
            connections = naming_connections(server)
            return (
                len(connections) == 1
                and connections[0].id != old.id
                and len(on_server(server)) == 2
                and len(on_server(server, "billing")) == 1
                and SVC in connections[0].subscriptions
            )

        await eventually(redone)
        back = time.monotonic()
        assert len(connected) == 2 and back - connected[1] < 1.0, back - connected[1]
        [new] = naming_connections(server)
        assert set(on_server(server).values()) == {new.id}
        server.naming.register(*SVC, _record("10.0.0.7", 1))  # a change after the reconnect
        await watch.until(lambda hosts: ("10.0.0.7", 1) in hosts)
        assert [] not in watch.seen  # push-empty protection held through the gap
        health = client.health()
        redo = health.services["grpc-naming"]["last_redo"]
        assert (redo["generation"], redo["instances"], redo["subscriptions"]) == (2, 3, 1)
        assert health.services["grpc-naming"]["instances"] == 3 and health.ok


async def test_an_unregistered_connection_is_found_by_the_health_check_and_redone() -> None:
    clock = FakeClock()
    async with NacosDevServer(auth=False, flavor="3.2") as server:
        async with grpc_client(server, clock=clock) as client:
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            [old] = naming_connections(server)
            server.grpc.unregister(old)  # the server forgot us (and the instance); TCP stays
            assert on_server(server) == {}
            await clock.settle()
            await clock.advance(5.0)  # the idle health check gets 301
            await eventually(lambda: set(on_server(server).values()) not in (set(), {old.id}))
            assert server.stats.grpc_errors[301] == 1


@pytest.mark.parametrize("protection", [True, False])
async def test_push_empty_protection_holds_while_the_instances_come_back(
    protection: bool, server: NacosDevServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A restarted server answers the redo's subscription with no instances while their owners
    have not registered again: with protection on, the listener keeps the list until they are
    back; off, it is told the empty list."""
    server.naming.register(*SVC, _record("10.0.0.5", 8080))  # its owner will be late
    async with grpc_client(server, push_empty_protection=protection) as client:
        listener = Listener()
        await client.naming.subscribe("orders", listener)
        await server.restart(keep_state=False)
        if protection:
            await eventually(lambda: "push-empty protection" in caplog.text)
        else:
            await listener.until(lambda hosts: hosts == [])
        server.naming.register(*SVC, _record("10.0.0.6", 8080))
        await listener.until(lambda hosts: hosts == [("10.0.0.6", 8080)])
        assert listener.seen == (
            [[("10.0.0.6", 8080)]] if protection else [[], [("10.0.0.6", 8080)]]
        )
        assert client.health().services["grpc-naming"]["last_redo"]["subscriptions"] == 1


async def test_changes_made_while_disconnected_are_applied_on_reconnect(
    server: NacosDevServer,
) -> None:
    """A registration that meets no connection fails (saying it is kept) and is made on the
    next connection; a deregistration is not sent at all (the server dropped the instance with
    the connection) and the instance is never registered again."""
    async with grpc_client(server, request_timeout=1, max_attempts=2) as client:
        naming = client.naming
        await naming.register_instance("orders", "10.0.0.5", 8080)
        await naming.register_instance("orders", "10.0.0.6", 8080)
        await server.pause()
        await eventually(lambda: client.health().services["grpc-naming"]["state"] != "connected")
        with pytest.raises(NacosConnectionError) as info:
            await naming.register_instance("orders", "10.0.0.7", 8080)
        assert "is kept" in "".join(getattr(info.value, "__notes__", []))
        await naming.deregister_instance("orders", "10.0.0.5", 8080)  # at once, no error
        assert {s.ip for s in naming.registered} == {"10.0.0.6", "10.0.0.7"}
        pending = client.health().services["naming"]["pending_registrations"]
        assert sorted(pending) == ["DEFAULT_GROUP@@orders 10.0.0.6:8080",
                                   "DEFAULT_GROUP@@orders 10.0.0.7:8080"]  # fmt: skip
        requests = record_requests(server)
        await server.resume()
        await eventually(lambda: set(on_server(server)) == {("10.0.0.6", 8080), ("10.0.0.7", 8080)})
        registered = [b for kind, b in requests if kind.endswith("InstanceRequest")]
        assert [[i["ip"] for i in b["instances"]] for b in registered] == [
            ["10.0.0.6", "10.0.0.7"]
        ]  # one batch; 10.0.0.5 never again
        assert client.health().services["naming"]["pending_registrations"] == []


async def test_close_deregisters_then_closes_the_connection(server: NacosDevServer) -> None:
    requests = record_requests(server)
    async with grpc_client(server) as client:
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        await client.naming.register_instance("orders", "10.0.0.6", 8080)
        await client.naming.register_instance("billing", "10.0.0.5", 9090)
        requests.clear()
    assert on_server(server) == {} and on_server(server, "billing") == {}
    kinds = sorted((kind, body.get("type")) for kind, body in requests)
    assert ("InstanceRequest", "deregisterInstance") in kinds  # sent, not left to the drop
    await server.grpc.wait_until(lambda: not server.grpc.connections)


async def test_close_with_deregister_on_close_off_still_removes_them_with_the_connection(
    server: NacosDevServer,
) -> None:
    async with grpc_client(server, deregister_on_close=False) as client:
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
    await server.grpc.wait_until(lambda: not on_server(server))
    assert server.stats.grpc_requests["InstanceRequest"] == 1  # no deregistration was sent


# ----- auth --------------------------------------------------------------------------------------
@pytest.mark.parametrize("event", ["expired", "rotated"])
async def test_a_token_refused_under_naming_load_surfaces_no_error(event: str) -> None:
    """1,000 concurrent lists and 50 registrations while every token is refused: 0 errors,
    one login for the event, each request replayed at most once."""
    async with NacosDevServer(flavor="3.3") as server:  # client auth on
        async with grpc_client(server, relogin_min_interval=0, request_timeout=30) as client:
            naming = client.naming
            await naming.register_instance("orders", "10.0.0.1", 1)
            if event == "expired":
                server.expire_tokens()
            else:
                server.rotate_secret()
            calls = [naming.list_instances("orders") for _ in range(1000)]
            calls += [naming.register_instance("orders", "10.0.1.1", p) for p in range(2, 52)]
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert [r for r in results if isinstance(r, BaseException)] == []
            stats = client.stats
            assert stats.logins == 2 and stats.forced_logins == 1 and stats.auth_errors == 0
            assert 1 <= stats.replays <= 1050
            assert len(on_server(server)) == 51
            assert client.health().services["grpc-naming"]["reconnects"] == 0


def _record(ip: str, port: int) -> InstanceRecord:
    """An instance as an HTTP registration leaves it (no connection owns it)."""
    return InstanceRecord(ip, port)
