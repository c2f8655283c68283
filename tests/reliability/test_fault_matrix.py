"""The fault matrix: each fault hits a live workload; nothing may be lost or left broken.

Workload in every cell: readers getting a config concurrently, a watcher on it, and a registered
instance. Invariants: no caller error where a retry or failover could succeed (else a typed
error within the deadline), the watcher converges to the server's content, the instance is
(back) on the server, and the client's background loops are still running.
Config and naming travel over HTTP (2.x long-poll and v1 beats, 3.3 MD5 polling and v3 beats)
or gRPC (3.3: config pushed, the instance bound to the connection and registered again after
every reconnect, no heartbeat); the gRPC rows also take the gRPC fault switches.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from nacos_async import NacosClient, NacosError
from nacos_async.testing import Flavor, NacosDevServer

SECRET = base64.b64encode(b"fault-matrix-shared-secret-key-32b!").decode()
# (flavor, transport): v1 long-poll + v1 naming / v3 MD5 polling + v3 beats / gRPC for both
SETUPS: list[tuple[Flavor, str]] = [("2.x", "http"), ("3.3", "http"), ("3.3", "grpc")]


@dataclass
class Cell:
    servers: list[NacosDevServer]
    client: NacosClient
    reads: int = 0
    errors: list[BaseException] = field(default_factory=list)
    seen: list[str | None] = field(default_factory=list)
    changed: anyio.Event = field(default_factory=anyio.Event)
    progressed: anyio.Event = field(default_factory=anyio.Event)

    def publish(self, content: str) -> None:
        for server in self.servers:
            if not server.paused:
                server.publish_config("matrix", content)

    def instance_on(self, server: NacosDevServer) -> bool:
        return any(
            svc.name == "matrix-svc" and svc.instances
            for svc in server.naming.list_services("public", "DEFAULT_GROUP")
        )


@asynccontextmanager
async def workload(
    tmp_path: Path,
    flavor: Flavor = "2.x",
    servers: int = 1,
    ttl: int = 60,
    transport: str = "http",
    **options: Any,
) -> AsyncIterator[Cell]:
    async with AsyncExitStack() as stack:
        nodes = [await stack.enter_async_context(NacosDevServer(flavor=flavor, token_ttl=ttl, secret_key=SECRET,
                                                                long_poll_min_hold=0.5)) for _ in range(servers)]  # fmt: skip
        for node in nodes:
            node.publish_config("matrix", "v0")
        settings: dict[str, Any] = {"relogin_min_interval": 0, "request_timeout": 1.0,
                                    "max_attempts": servers + 2, "retry_backoff": 0.05,
                                    "long_poll_timeout": 10, "config_poll_interval": 0.2,
                                    "snapshot_dir": str(tmp_path), "transport": transport,
                                    } | options  # fmt: skip
        client = NacosClient(
            ",".join(n.address for n in nodes), username="nacos", password="nacos", **settings
        )
        await stack.enter_async_context(client)
        cell = Cell(nodes, client)
        await client.naming.register_instance("matrix-svc", "10.9.9.9", 9000)
        stop = anyio.Event()

        async def reader() -> None:
            while not stop.is_set():
                try:
                    await client.config.get("matrix")
                    cell.reads += 1
                    cell.progressed.set()
                except NacosError as exc:
                    cell.errors.append(exc)
                await anyio.sleep(0.01)

        async def watcher() -> None:
            # initial: the watch is set up (its baseline read) before any fault is injected; a
            # baseline read after the fault would already hold the value the test waits for
            async for change in client.config.watch("matrix", initial=True):
                cell.seen.append(change.content)
                cell.changed.set()
                cell.changed = anyio.Event()

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(reader)
            tg.start_soon(watcher)
            with anyio.fail_after(10):
                while cell.seen != ["v0"]:
                    await cell.changed.wait()
            yield cell
            stop.set()
            tg.cancel_scope.cancel()


async def converge(cell: Cell, content: str, within: float = 20.0) -> bool:
    with anyio.move_on_after(within):
        while not cell.seen or cell.seen[-1] != content:
            await cell.changed.wait()
        return True
    return False


async def instance_back(cell: Cell, server: NacosDevServer, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if cell.instance_on(server):
            return True
        await anyio.sleep(0.1)  # heartbeats are real time here (5 s interval)
    return False


Fault = Callable[[Cell], Awaitable[None]]


async def rotate(cell: Cell) -> None:
    cell.servers[0].rotate_secret()  # a new random key: every issued token is now invalid


async def expire(cell: Cell) -> None:
    cell.servers[0].expire_tokens()


async def ttl_change(cell: Cell) -> None:
    cell.servers[0].set_token_ttl(2)
    cell.servers[0].expire_tokens()
    await anyio.sleep(3)  # two short lifetimes under load


async def login_down_for_a_while(cell: Cell) -> None:
    """The renewal (due ~5.5 s after login, TTL 6 s) fails; the old token keeps serving."""
    login = "/v3/auth" if cell.servers[0].traits.v3 else "/v1/auth"
    cell.servers[0].fail_next(3, 503, path=login)
    await anyio.sleep(6.5)
    assert cell.client.stats.login_failures >= 1 and cell.client.stats.logins >= 2


async def ttl_shrinks_on_a_forced_login(cell: Cell) -> None:
    """3,600 s tokens, then a forced login answers 3 s: the background renews from then on."""
    cell.servers[0].set_token_ttl(3)
    cell.servers[0].expire_tokens()
    before = cell.client.stats
    await anyio.sleep(7)  # two short lifetimes and more
    after = cell.client.stats
    assert after.proactive_refreshes - before.proactive_refreshes >= 2
    assert after.forced_logins - before.forced_logins <= 1


async def login_outage_of_several_lifetimes(cell: Cell) -> None:
    """Logins fail for 6 s with 2 s tokens; once they work again, readers recover within the
    login retry cap (5 s), and the outage caused no login storm."""
    login = "/v3/auth" if cell.servers[0].traits.v3 else "/v1/auth"
    cell.servers[0].fail_next(100_000, 503, path=login)
    failures_before = cell.client.stats.login_failures
    await anyio.sleep(6)
    cell.servers[0].faults.clear()
    back = time.monotonic()
    reads = cell.reads
    with anyio.fail_after(5 + 1.5):
        while cell.reads <= reads:
            cell.progressed = anyio.Event()
            await cell.progressed.wait()
    assert time.monotonic() - back <= 5 + 1.5
    attempts = cell.client.stats.login_failures - failures_before
    assert attempts <= 6 * 3, attempts  # a bounded probe rate, not one login per read


async def gzip_bombs(cell: Cell) -> None:
    """Config reads answered by 250 KB gzip bodies that inflate to 256 MiB: each is refused while
    it inflates past max_response_bytes (1 MiB here; a typed error, memory bounded by it),
    then reads are served again."""
    import resource

    config = "/v3/client/cs/config" if cell.servers[0].traits.v3 else "/v1/cs/configs"
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    cell.servers[0].serve_gzip_bomb(20, path=config, inflated=256 << 20)
    await anyio.sleep(1)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 100, grown_mib  # not even one bomb inflated: reads stop at 1 MiB
    assert any(type(e).__name__ == "NacosProtocolError" for e in cell.errors)


async def burst_503(cell: Cell) -> None:
    cell.servers[0].fail_next(10, 503)
    await anyio.sleep(0.5)


async def connection_resets(cell: Cell) -> None:
    for _ in range(3):
        cell.servers[0].reset_connections()
        await anyio.sleep(0.2)


async def pause(cell: Cell) -> None:
    await cell.servers[0].pause()
    await anyio.sleep(2)
    await cell.servers[0].resume()


async def restart_losing_state(cell: Cell) -> None:
    await cell.servers[0].restart(keep_state=False)
    cell.servers[0].publish_config("matrix", "v0")


async def latency_beyond_timeout(cell: Cell) -> None:
    """Answers slower than the 1 s request timeout: typed errors within the deadline, then back."""
    cell.servers[0].set_latency(1.5)
    started = time.monotonic()
    with pytest.raises(NacosError) as info:
        await cell.client.request("GET", "/v1/ns/operator/metrics")  # served by every flavor
    assert type(info.value).__name__ == "NacosTimeoutError"
    assert time.monotonic() - started < 3 * 1.0 + 1.0  # attempts x timeout + backoff
    cell.servers[0].set_latency(0)


async def clock_skew(cell: Cell) -> None:
    cell.servers[0].skew_clock(-6 * 3600)
    cell.servers[0].expire_tokens()


async def one_of_three_down(cell: Cell) -> None:
    await cell.servers[0].pause()
    await anyio.sleep(2)


async def grpc_streams_ended(cell: Cell) -> None:
    cell.servers[0].grpc.end_streams()  # completed with OK, TCP closed: as Nacos closes one


async def grpc_streams_reset(cell: Cell) -> None:
    cell.servers[0].grpc.reset_streams()


async def grpc_connections_dropped(cell: Cell) -> None:
    for _ in range(3):
        cell.servers[0].grpc.close_connections()
        await anyio.sleep(0.2)


async def grpc_connect_reset(cell: Cell) -> None:
    await cell.servers[0].grpc.connect_reset()


async def grpc_starting_window(cell: Cell) -> None:
    """A restart's "server is starting" window: connections refused, unary calls answered 300."""
    cell.servers[0].grpc.set_starting(1.5)
    cell.servers[0].grpc.end_streams()
    await anyio.sleep(2)


async def grpc_pushes_lost(cell: Cell) -> None:
    cell.servers[0].grpc.drop_pushes()
    cell.publish("while pushes are lost")
    await anyio.sleep(1)
    cell.servers[0].grpc.drop_pushes(False)  # the server's push retry delivers it


async def grpc_unregistered(cell: Cell) -> None:
    """The server forgets the connection (TCP stays up): requests get 301."""
    for connection in cell.servers[0].grpc.connections:
        cell.servers[0].grpc.unregister(connection)


GRPC_CELLS: dict[str, tuple[Fault, dict[str, Any]]] = {
    "gRPC stream ended with OK": (grpc_streams_ended, {}),
    "gRPC stream reset": (grpc_streams_reset, {}),
    "gRPC TCP connections dropped": (grpc_connections_dropped, {}),
    "gRPC ConnectResetRequest": (grpc_connect_reset, {}),
    "gRPC server starting (1.5 s)": (grpc_starting_window, {"errors_allowed": True}),
    "gRPC pushes lost (1 s)": (grpc_pushes_lost, {}),
    "gRPC connection unregistered (301)": (grpc_unregistered, {}),
}

CELLS: dict[str, tuple[Fault, dict[str, Any]]] = {
    "secret rotation": (rotate, {}),
    "token expiry": (expire, {}),
    "TTL change": (ttl_change, {}),
    "login failing for a while": (login_down_for_a_while, {"ttl": 6}),
    "TTL shrinking on a forced login": (ttl_shrinks_on_a_forced_login, {"ttl": 3600}),
    "login outage of several lifetimes": (
        login_outage_of_several_lifetimes,
        {"ttl": 2, "errors_allowed": True},
    ),
    "503 burst": (burst_503, {}),
    "gzip bombs": (gzip_bombs, {"errors_allowed": True, "max_response_bytes": 1 << 20}),
    "connection resets": (connection_resets, {}),
    "paused server (2 s)": (pause, {"errors_allowed": True}),
    "restart losing state": (restart_losing_state, {}),
    "server clock 6 h off": (clock_skew, {}),
    "latency beyond the timeout": (latency_beyond_timeout, {"errors_allowed": True}),
    "one of three servers down": (one_of_three_down, {"servers": 3}),
}


HTTP_ONLY = {"gzip bombs"}  # gRPC messages are not compressed; their size limit has own tests
CASES = [
    (name, flavor, transport)
    for name in CELLS
    for flavor, transport in SETUPS
    if transport == "http" or name not in HTTP_ONLY
] + [(name, "3.3", "grpc") for name in GRPC_CELLS]


@pytest.mark.parametrize(("name", "flavor", "transport"), CASES)
async def test_fault_cell(
    name: str, flavor: Flavor, transport: str, tmp_path: Path, matrix: dict[str, dict[str, Any]]
) -> None:
    fault, options = (CELLS | GRPC_CELLS)[name]
    options = dict(options)
    errors_allowed = options.pop("errors_allowed", False)
    async with workload(tmp_path, flavor, transport=transport, **options) as cell:
        await fault(cell)
        cell.publish("after")
        converged = await converge(cell, "after")
        live = [s for s in cell.servers if not s.paused]
        back = await instance_back(cell, live[0]) if name != "one of three servers down" else any(
            [await instance_back(cell, s, within=8) for s in live])  # fmt: skip
        reads_before = cell.reads
        with anyio.fail_after(10):
            while cell.reads < reads_before + 5:  # readers still served after the fault
                cell.progressed = anyio.Event()
                await cell.progressed.wait()
        client = cell.client
        stats = client.stats
        over_grpc = client.health().services.get("grpc-naming", {}).get("instances")
    matrix[f"{name} ({flavor}, {transport})"] = {
        "result": "pass" if converged and back and (errors_allowed or not cell.errors) else "FAIL",
        "reads": cell.reads,
        "errors": len(cell.errors),
        "watcher": "converged" if converged else "stale",
        "instance": "present" if back else "missing",
        "logins": stats.logins,
        "replays": stats.replays,
    }
    assert converged, f"{name}: watcher saw {cell.seen[-3:]}"
    assert back, f"{name}: instance not back"
    if transport == "grpc":  # the instance lives on the connection: redone, never beaten
        assert (over_grpc, stats.heartbeats) == (1, 0)
    if errors_allowed:
        assert all(isinstance(e, NacosError) for e in cell.errors)
    else:
        assert cell.errors == [], f"{name}: {cell.errors[:2]}"


@pytest.mark.parametrize(("flavor", "transport"), SETUPS)
async def test_all_servers_down_serves_snapshots_then_converges(
    flavor: Flavor, transport: str, tmp_path: Path, matrix: dict[str, dict[str, Any]]
) -> None:
    async with workload(tmp_path, flavor, servers=2, transport=transport) as cell:
        for server in cell.servers:
            await server.pause()
        started = time.monotonic()
        served = await cell.client.config.get_with_meta("matrix")
        elapsed = time.monotonic() - started
        assert served.source == "snapshot" and served.content == "v0"
        assert elapsed < 10  # within the deadline: attempts x timeout + backoff
        for server in cell.servers:
            await server.resume()
            server.publish_config("matrix", "after")
        converged = await converge(cell, "after")
        errors = len(cell.errors)
        stats = cell.client.stats
    matrix[f"all servers down, then back ({flavor}, {transport})"] = {
        "result": "pass" if converged and errors == 0 else "FAIL", "reads": cell.reads,
        "errors": errors, "watcher": "converged" if converged else "stale", "instance": "-",
        "logins": stats.logins, "replays": stats.replays,
    }  # fmt: skip
    assert converged
    assert errors == 0  # readers were served from the snapshot throughout


@pytest.mark.parametrize(("flavor", "transport"), SETUPS)
async def test_close_from_a_config_listener(
    flavor: Flavor, transport: str, tmp_path: Path, matrix: dict[str, dict[str, Any]]
) -> None:
    """A listener that closes the client: close() ends within its timeout, with no busy loop,
    and the client ends closed."""
    import resource

    closed = anyio.Event()
    async with workload(tmp_path, flavor, transport=transport) as cell:
        client = cell.client

        async def on_change(change: object) -> None:
            if getattr(change, "content", None) == "close now":
                await client.close(timeout=2)
                closed.set()

        await client.config.add_listener("matrix", on_change)
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        cell.publish("close now")
        with anyio.fail_after(10):
            await closed.wait()
        took = time.monotonic() - started
        used = resource.getrusage(resource.RUSAGE_SELF)
        busy = (used.ru_utime + used.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
        state = client.health().state
        stats = client.stats
    matrix[f"close() from a listener ({flavor}, {transport})"] = {
        "result": "pass" if state == "closed" and took < 5 else "FAIL", "reads": cell.reads,
        "errors": 0, "watcher": "-", "instance": "deregistered", "logins": stats.logins,
        "replays": stats.replays,
    }  # fmt: skip
    assert state == "closed"
    assert took < 5, took
    assert busy < took + 1.0, (busy, took)  # not spinning a core
    assert all(isinstance(e, NacosError) for e in cell.errors)  # readers see typed errors
