"""Naming benchmark: heartbeats against raw aiohttp, and naming over gRPC against HTTP and
against nacos-sdk-python 3.2.0's asyncio naming client.

Heartbeats are background work at a fixed pace, so contenders cannot take turns in one process
(``_compare``'s slices): each runs in its own process at the same time instead, and measures its
own CPU over the same windows of wall time, so that all see the same noise. The contenders:
nacos-async (over HTTP), raw aiohttp sending the same beats at the same pace (one loop, a heap
of due times, light beats when the server allows them, as the client does), and raw aiohttp
again (the noise row). Run on the 2.x flavor (v1 beats) and the 3.2 flavor (v3 beats);
reported: CPU per beat, the ratio ours/raw (min/median/max over windows), beats sent against
expected, and list_instances latency for nacos-async's instances, measured while it beats, each
list beside raw aiohttp's GET and ``json.loads`` of the same instances: a latency depends on
how fast the machine is at that moment, and the floor beside it says how fast that was.

Over gRPC (3.2 flavor), the same way, in parallel processes: the client CPU and memory of
holding 1,000 registered instances (nacos-async over gRPC: no heartbeats; over HTTP: beats every
5 s; nacos-sdk-python 3.2.0 from its own virtualenv, ``_grpc_naming_worker.py``); the latency
from a change (an instance registered) to each watcher seeing it (pushed over gRPC, polled every
``naming_poll_interval`` over HTTP); and the time each takes to have its instances back on the
server after a restart that lost them.

    python -m benchmarks.naming_bench [--quick] [--no-3x]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import itertools
import json
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sized
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks._compare import Spread, Target
from benchmarks._harness import (
    PEER_3X,
    contender_python,
    control,
    dev_server_process,
    environment,
    percentile,
    pin,
    raise_fd_limit,
    rss_mb,
)
from nacos_async import NacosClient
from nacos_async.settings import NacosSettings

OURS, RAW, RAW_AGAIN = "nacos-async", "raw aiohttp", "raw aiohttp again"
BEAT_TARGET = Target("<=", 1.0)  # per-beat CPU against raw aiohttp
LIST_TARGET = Target("<=", 10.0)  # list_instances p50 in ms, for 1,000 instances
FLAVORS = {"2.x": "v1", "3.2": "v3"}  # the beats each flavor gets
GRPC, HTTP, SDK = "nacos-async gRPC", "nacos-async HTTP", "nacos-sdk-python 3.2.0 (gRPC)"
HOLD_TARGET = Target("<=", 0.01)  # share of one core holding 1,000 instances over gRPC
WORKER = Path(__file__).with_name("_grpc_naming_worker.py")
CREDENTIALS: dict[str, Any] = {"username": "nacos", "password": "nacos"}


def _address(i: int) -> str:
    return f"10.1.{i // 250}.{i % 250 + 1}"


def _metadata(beat_ms: int) -> dict[str, str]:
    return {"preserved.heart.beat.interval": str(beat_ms)}


class RawBeats:
    """The floor: the same registrations, beats and lists as nacos-async, straight through
    aiohttp."""

    def __init__(self, http: aiohttp.ClientSession, base: str, api: str, service: str) -> None:
        self.http, self.api, self.service = http, api, service
        self.nacos = f"{base}/nacos"
        self.headers: dict[str, str] = {}
        self.beats = 0

    async def login(self) -> None:
        form = {"username": "nacos", "password": "nacos"}
        async with self.http.post(f"{self.nacos}/v1/auth/users/login", data=form) as resp:
            self.headers = {"Authorization": f"Bearer {(await resp.json())['accessToken']}"}

    def form(self, i: int, beat_ms: int) -> dict[str, str]:
        return {"serviceName": self.service, "groupName": "DEFAULT_GROUP",
                "namespaceId": "public", "ip": _address(i), "port": "8080",
                "clusterName": "DEFAULT", "weight": "1.0", "enabled": "true", "healthy": "true",
                "ephemeral": "true", "metadata": json.dumps(_metadata(beat_ms))}  # fmt: skip

    async def register(self, i: int, beat_ms: int) -> None:
        path = "/v1/ns/instance" if self.api == "v1" else "/v3/client/ns/instance"
        async with self.http.post(
            self.nacos + path, data=self.form(i, beat_ms), headers=self.headers
        ) as resp:
            resp.raise_for_status()

    async def beat(self, i: int, beat_ms: int, light: bool) -> bool:
        """One beat; returns whether the server allows light beats from now on."""
        form = self.form(i, beat_ms)
        if self.api == "v3":
            async with self.http.post(f"{self.nacos}/v3/client/ns/instance", data=form,
                                      params={"heartBeat": "true"}, headers=self.headers) as r:  # fmt: skip
                ok = (await r.json()).get("code") == 0
                allows_light = False
        else:
            params = {k: form[k] for k in ("serviceName", "groupName", "namespaceId",
                                            "clusterName", "ip", "port", "ephemeral")}  # fmt: skip
            if not light:
                params["beat"] = json.dumps({
                    "ip": form["ip"], "port": 8080, "serviceName": f"DEFAULT_GROUP@@{self.service}",
                    "cluster": "DEFAULT", "weight": 1.0, "ephemeral": True,
                    "metadata": _metadata(beat_ms)}, separators=(",", ":"))  # fmt: skip
            async with self.http.put(f"{self.nacos}/v1/ns/instance/beat", params=params,
                                     headers=self.headers) as r:  # fmt: skip
                body = await r.json()
                ok, allows_light = r.status == 200, body.get("lightBeatEnabled") is True
        self.beats += ok
        return allows_light

    async def list_hosts(self) -> list[Any]:
        """The floor of a list: one GET of the service's instances, parsed with ``json.loads``
        (over v3, of the one cluster the floor knows they are in)."""
        if self.api == "v1":
            path, params = "/v1/ns/instance/list", {"healthyOnly": "false"}
        else:
            path, params = "/v3/client/ns/instance/list", {"clusterName": "DEFAULT"}
        params |= {"serviceName": self.service, "groupName": "DEFAULT_GROUP",
                   "namespaceId": "public"}  # fmt: skip
        async with self.http.get(self.nacos + path, params=params, headers=self.headers) as resp:
            resp.raise_for_status()
            body = json.loads(await resp.read())
        hosts: list[Any] = body["hosts"] if self.api == "v1" else body["data"]
        return hosts

    async def run(self, instances: int, beat_ms: int, registered: list[float]) -> None:
        """Beat instance ``i`` every ``beat_ms`` from ``registered[i]``, forever."""
        interval = beat_ms / 1000
        light = [False] * instances
        due = [(registered[i] + interval, i) for i in range(instances)]
        heapq.heapify(due)
        while True:
            await asyncio.sleep(max(0.0, due[0][0] - time.monotonic()))
            now, ready = time.monotonic(), []
            while due and due[0][0] <= now:
                ready.append(heapq.heappop(due))
            allowed = await asyncio.gather(*(self.beat(i, beat_ms, light[i]) for _, i in ready))
            for (when, i), allows_light in zip(ready, allowed, strict=True):
                light[i] = allows_light
                heapq.heappush(due, (when + interval, i))


async def _windows(
    start: float, window: float, count: int, beats: Callable[[], int]
) -> list[dict[str, float]]:
    """CPU seconds and beats in each of ``count`` windows from wall time ``start``."""
    marks = []
    for k in range(count + 1):
        await asyncio.sleep(max(0.0, start + k * window - time.time()))
        marks.append((time.process_time(), beats()))
    return [{"cpu": b[0] - a[0], "beats": b[1] - a[1]} for a, b in itertools.pairwise(marks)]


async def _ready_then_start() -> float:
    """Tell the parent this contender is beating steadily; read the shared start time back."""
    print("ready", flush=True)
    return float(await asyncio.to_thread(sys.stdin.readline))


async def _lists(
    args: argparse.Namespace, ours: Callable[[], Awaitable[Sized]]
) -> dict[str, list[float]]:
    """list_instances p50/p99 (ms) in 5 batches of 20, each list beside raw aiohttp's list of
    the same instances (alternating which goes first): the floor of that moment's machine."""
    async with aiohttp.ClientSession() as http:
        raw = RawBeats(http, args.base, args.api, args.service)
        await raw.login()
        contenders: dict[str, Callable[[], Awaitable[Sized]]] = {
            "ours": ours,
            "raw": raw.list_hosts,
        }
        found: dict[str, list[float]] = {"list_p50_ms": [], "list_p99_ms": [],
                                         "raw_list_p50_ms": []}  # fmt: skip
        for _ in range(5):
            samples: dict[str, list[float]] = {"ours": [], "raw": []}
            for k in range(20):
                for name in ("ours", "raw") if k % 2 == 0 else ("raw", "ours"):
                    t0 = time.perf_counter()
                    hosts = await contenders[name]()
                    samples[name].append(time.perf_counter() - t0)
                    if len(hosts) != args.instances:
                        raise RuntimeError(f"{name} listed {len(hosts)} of {args.instances}")
            found["list_p50_ms"].append(percentile(samples["ours"], 0.5) * 1000)
            found["list_p99_ms"].append(percentile(samples["ours"], 0.99) * 1000)
            found["raw_list_p50_ms"].append(percentile(samples["raw"], 0.5) * 1000)
    return found


async def child(args: argparse.Namespace) -> dict[str, Any]:
    """One contender, in its own process (see the module docstring)."""
    address = args.base.removeprefix("http://")
    if args.child in ("hold", "keep", "watch"):
        return await grpc_child(args, address)
    interval = args.beat_ms / 1000
    if args.child == "ours":
        # Beats are read from stats: an event hook would make every request build an event.
        async with NacosClient(address, **CREDENTIALS, pool_size=200, transport="http") as c:
            for i in range(args.instances):
                await c.naming.register_instance(
                    args.service, _address(i), 8080, metadata=_metadata(args.beat_ms)
                )
            await asyncio.sleep(interval)  # one interval to settle into the schedule
            start = await _ready_then_start()
            windows = await _windows(start, args.window, args.windows, lambda: c.stats.heartbeats)
            lists = await _lists(args, lambda: c.naming.list_instances(args.service))
        return {"windows": windows, **lists}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:
        raw = RawBeats(http, args.base, args.api, args.service)
        await raw.login()
        registered = []
        for i in range(args.instances):
            await raw.register(i, args.beat_ms)
            registered.append(time.monotonic())
        beating = asyncio.create_task(raw.run(args.instances, args.beat_ms, registered))
        await asyncio.sleep(interval)
        start = await _ready_then_start()
        windows = await _windows(start, args.window, args.windows, lambda: raw.beats)
        beating.cancel()
    return {"windows": windows}


async def heartbeats(
    base: str,
    server_pid: int,
    flavor: str,
    instances: int,
    beat_ms: int,
    window: float,
    windows: int,
) -> dict[str, Any]:
    """All three contenders at once against the dev server at ``base`` (of ``flavor``); the
    server on one core, the contenders together on another."""
    pin(server_pid, 0)
    procs: dict[str, asyncio.subprocess.Process] = {}
    for name, kind in ((OURS, "ours"), (RAW, "raw"), (RAW_AGAIN, "raw")):
        procs[name] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.naming_bench", "--child", kind, "--base", base,
            "--api", FLAVORS[flavor], "--service", f"bench-{kind}-{len(procs)}",
            "--instances", str(instances), "--beat-ms", str(beat_ms),
            "--window", str(window), "--windows", str(windows),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        pin(procs[name].pid, 1)
    try:
        for name, proc in procs.items():
            assert proc.stdout is not None
            if (await proc.stdout.readline()).strip() != b"ready":
                raise RuntimeError(f"the {name} contender did not start")
        start = time.time() + 0.5
        outputs = await asyncio.gather(
            *(proc.communicate(f"{start}\n".encode()) for proc in procs.values())
        )
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    for name, proc in procs.items():
        if proc.returncode != 0:
            raise RuntimeError(f"the {name} contender exited with {proc.returncode}")
    found = {name: json.loads(out) for name, (out, _) in zip(procs, outputs, strict=True)}
    per_beat = {
        name: [w["cpu"] / max(1, w["beats"]) for w in result["windows"]]
        for name, result in found.items()
    }
    vs_raw = Spread.of(o / r for o, r in zip(per_beat[OURS], per_beat[RAW], strict=True))
    list_p50 = Spread.of(found[OURS]["list_p50_ms"])
    raw_list_p50 = found[OURS]["raw_list_p50_ms"]
    ours_windows = found[OURS]["windows"]
    return {
        "flavor": flavor,
        "beats_api": FLAVORS[flavor],
        "instances": instances,
        "beat_ms": beat_ms,
        "windows": windows,
        "window_s": window,
        "beats": {name: sum(w["beats"] for w in r["windows"]) for name, r in found.items()},
        "beats_expected": round(instances * windows * window / (beat_ms / 1000)),
        "cpu_us_per_beat": {
            name: Spread.of(values).scaled(1e6).as_dict(1) for name, values in per_beat.items()
        },
        "cpu_share_of_one_core": round(sum(w["cpu"] for w in ours_windows) / (windows * window), 4),
        "vs_raw": vs_raw.as_dict(),
        "target": BEAT_TARGET.judge(vs_raw),
        "noise_raw_vs_raw": Spread.of(
            a / r for a, r in zip(per_beat[RAW_AGAIN], per_beat[RAW], strict=True)
        ).as_dict(),
        "list_p50_ms": list_p50.as_dict(2),
        "list_p99_ms": Spread.of(found[OURS]["list_p99_ms"]).as_dict(2),
        "raw_list_p50_ms": Spread.of(raw_list_p50).as_dict(2),
        "list_vs_raw": Spread.of(
            o / r for o, r in zip(found[OURS]["list_p50_ms"], raw_list_p50, strict=True)
        ).as_dict(),
        "list_target": LIST_TARGET.judge(list_p50),
    }


# ----- naming over gRPC ----------------------------------------------------------------------------
async def grpc_child(args: argparse.Namespace, address: str) -> dict[str, Any]:
    """nacos-async over ``args.transport``: hold, keep or watch (the worker's modes)."""
    options = {"naming_poll_interval": args.poll} if args.poll else {}
    async with NacosClient(
        address, **CREDENTIALS, pool_size=200, transport=args.transport, **options
    ) as c:
        if args.child == "watch":
            seen: dict[int, float] = {}
            first = asyncio.Event()

            async def consume() -> None:
                async for hosts in c.naming.watch(args.service, initial=True):
                    now = time.monotonic()
                    for host in hosts:
                        seen.setdefault(host.port, now)
                    first.set()

            consumer = asyncio.create_task(consume())
            await first.wait()
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
            consumer.cancel()
            return {"seen": seen}
        await asyncio.gather(  # concurrent: they go out together (one batch over gRPC)
            *(c.naming.register_instance(args.service, _address(i), 8080)
              for i in range(args.instances))
        )  # fmt: skip
        if args.child == "keep":
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
            return {}
        start = await _ready_then_start()
        windows = await _windows(start, args.window, args.windows, lambda: c.stats.heartbeats)
        return {"windows": windows, "rss_mb": rss_mb()}


@contextlib.asynccontextmanager
async def contenders(
    mode: str,
    base: str,
    services: dict[str, str],
    instances: int,
    sdk_python: Path | None,
    *extra: str,
    poll: float | None = None,
) -> AsyncIterator[dict[str, asyncio.subprocess.Process]]:
    """One process per contender (``services``: name -> its service), each ``ready``."""
    address = base.removeprefix("http://")
    with tempfile.TemporaryDirectory(prefix="nacos-sdk-3-") as workdir:
        procs: dict[str, asyncio.subprocess.Process] = {}
        try:
            for name, service in services.items():
                if name == SDK:
                    assert sdk_python is not None
                    argv = [str(sdk_python), str(WORKER), mode, address, workdir, service,
                            str(instances), *extra]  # fmt: skip
                    env = {"HOME": workdir, "PATH": "/usr/bin:/bin"}  # its logs stay there
                else:
                    transport = "grpc" if name == GRPC else "http"
                    argv = [sys.executable, "-m", "benchmarks.naming_bench", "--child", mode,
                            "--transport", transport, "--base", base, "--service", service,
                            "--instances", str(instances)]  # fmt: skip
                    if extra:
                        argv += ["--window", extra[0], "--windows", extra[1]]
                    if poll:
                        argv += ["--poll", str(poll)]
                    env = None
                procs[name] = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
                )
            for name, proc in procs.items():
                assert proc.stdout is not None
                line = await asyncio.wait_for(proc.stdout.readline(), 120)
                if line.strip() != b"ready":
                    raise RuntimeError(f"the {name} contender did not start")
            yield procs
        finally:
            for proc in procs.values():
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()


async def _finish(procs: dict[str, asyncio.subprocess.Process], say: bytes) -> dict[str, Any]:
    """Send ``say`` to every contender, close its stdin and read the JSON it ends with."""
    outputs = await asyncio.gather(*(p.communicate(say) for p in procs.values()))
    return {name: json.loads(out or b"{}") for name, (out, _) in zip(procs, outputs, strict=True)}


def _names(sdk_python: Path | None) -> list[str]:
    return [GRPC, HTTP] + ([SDK] if sdk_python is not None else [])


async def holding(
    base: str, instances: int, window: float, windows: int, sdk_python: Path | None
) -> dict[str, Any]:
    """Client CPU and memory of holding ``instances`` registered instances, at the same time."""
    services = {name: f"hold-{k}" for k, name in enumerate(_names(sdk_python))}
    extra = (str(window), str(windows))
    async with contenders("hold", base, services, instances, sdk_python, *extra) as procs:
        start = time.time() + 0.5
        found = await _finish(procs, f"{start}\n".encode())
    shares = {
        name: Spread.of(w["cpu"] / window for w in result["windows"])
        for name, result in found.items()
    }
    return {
        "instances": instances,
        "window_s": window,
        "windows": windows,
        "share_of_one_core": {name: spread.as_dict(4) for name, spread in shares.items()},
        "heartbeats": {name: sum(w["beats"] for w in r["windows"]) for name, r in found.items()},
        "rss_mb": {name: round(result["rss_mb"], 1) for name, result in found.items()},
        "target": HOLD_TARGET.judge(shares[GRPC]),
    }


async def watch_latency(
    base: str, changes: int, spacing: float, sdk_python: Path | None, poll: float | None = None
) -> dict[str, Any]:
    """From an instance registered to each watcher seeing it: pushed, or polled (every
    ``poll`` seconds; the setting's default when None)."""
    service = "watched"
    services = dict.fromkeys(_names(sdk_python), service)
    address = base.removeprefix("http://")
    rng = random.Random(7)
    changed: dict[int, float] = {}
    async with (
        NacosClient(address, **CREDENTIALS, transport="grpc") as changer,
        contenders("watch", base, services, 0, sdk_python, poll=poll) as procs,
    ):
        for k in range(changes):
            port = 20000 + k
            changed[port] = time.monotonic()
            await changer.naming.register_instance(service, "10.3.0.1", port)
            await asyncio.sleep(spacing * rng.uniform(0.5, 1.5))  # spread over any poll cycle
        poll = poll or NacosSettings().naming_poll_interval
        await asyncio.sleep(poll + 1)  # the last change reaches the pollers too
        found = await _finish(procs, b"")
    rows: dict[str, Any] = {}
    for name, result in found.items():
        seen = {int(port): t for port, t in result["seen"].items()}
        lags = [(seen[p] - t) * 1000 for p, t in changed.items() if p in seen]
        rows[name] = {
            "p50_ms": round(percentile(lags, 0.5), 1) if lags else None,
            "p99_ms": round(percentile(lags, 0.99), 1) if lags else None,
            "missed": changes - len(lags),
        }
    return {"changes": changes, "poll_interval_s": poll, "latency": rows}


async def redo_after_restart(
    base: str, instances: int, sdk_python: Path | None, give_up: float = 60.0
) -> dict[str, Any]:
    """Seconds from a server restart that lost every instance to each contender's being back."""
    services = {name: f"redo-{k}" for k, name in enumerate(_names(sdk_python))}
    address = base.removeprefix("http://")
    back: dict[str, float | None] = dict.fromkeys(services)
    async with (
        contenders("keep", base, services, instances, sdk_python) as procs,
        NacosClient(address, **CREDENTIALS, transport="http") as reader,
    ):
        await control(base, "restart", keep_state="false")
        started = time.monotonic()
        while any(t is None for t in back.values()) and time.monotonic() - started < give_up:
            await asyncio.sleep(0.05)
            for name, service in services.items():
                if back[name] is not None:
                    continue
                with contextlib.suppress(Exception):  # the server may still be restarting
                    if len(await reader.naming.list_instances(service)) == instances:
                        back[name] = round(time.monotonic() - started, 2)
        await _finish(procs, b"")
    return {"instances": instances, "seconds_back": back, "gave_up_after_s": give_up}


async def grpc_naming(quick: bool, with_3x: bool) -> dict[str, Any]:
    python = None
    if with_3x:
        python = await asyncio.to_thread(contender_python, "nacos-sdk-python-3", PEER_3X)
    instances, window, windows = (200, 2.0, 3) if quick else (1000, 10.0, 6)
    changes, spacing = (8, 0.3) if quick else (60, 1.0)
    async with dev_server_process("--flavor", "3.2") as (base, _):
        hold = await holding(base, instances, window, windows, python)
        latency = await watch_latency(base, changes, spacing, python)
        redo = await redo_after_restart(base, 10, python)
    return {"flavor": "3.2", "holding": hold, "watch": latency, "redo": redo}


def grpc_markdown(grpc: dict[str, Any]) -> str:
    hold, watch, redo = grpc["holding"], grpc["watch"], grpc["redo"]
    lines = [
        f"| contender | CPU holding {hold['instances']:,} instances (share of one core, median "
        f"(min-max) over {hold['windows']} x {hold['window_s']:g} s) | heartbeats | RSS | "
        f"change to watcher p50 / p99 ({watch['changes']} changes) | back after a restart "
        f"({redo['instances']} instances) |",
        "|---|---|---|---|---|---|",
    ]
    for name, share in hold["share_of_one_core"].items():
        lag = watch["latency"][name]
        missed = f", {lag['missed']} missed" if lag["missed"] else ""
        again = redo["seconds_back"][name]
        back = f"{again:g} s" if again is not None else f"not in {redo['gave_up_after_s']:g} s"
        lines.append(
            f"| {name} | {share['median']:.2%} ({share['min']:.2%}-{share['max']:.2%}) | "
            f"{hold['heartbeats'][name]:,} | {hold['rss_mb'][name]:g} MiB | "
            f"{lag['p50_ms']} / {lag['p99_ms']} ms{missed} | {back} |"
        )
    target = hold["target"]
    lines += ["", f"Target for nacos-async gRPC holding them: under {HOLD_TARGET.value:.0%} of a "
              f"core, {'met' if target['met'] else 'missed'}."]  # fmt: skip
    return "\n".join(lines)


async def run(quick: bool, with_3x: bool = True) -> dict[str, Any]:
    raise_fd_limit(8192)
    instances, beat_ms, window, windows = (200, 2000, 2.0, 3) if quick else (1000, 5000, 10.0, 6)
    rows = []
    for flavor in FLAVORS:
        async with dev_server_process("--flavor", flavor) as (base, pid):
            rows.append(await heartbeats(base, pid, flavor, instances, beat_ms, window, windows))
    return {
        "environment": environment(),
        "heartbeats": rows,
        "grpc": await grpc_naming(quick, with_3x),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async naming benchmark")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-3x", action="store_true", help="skip nacos-sdk-python 3.x")
    parser.add_argument("--grpc-only", action="store_true", help="the gRPC sections only")
    parser.add_argument(
        "--child", choices=["ours", "raw", "hold", "keep", "watch"], help=argparse.SUPPRESS
    )
    for option, kind in (("--base", str), ("--api", str), ("--service", str),
                         ("--instances", int), ("--beat-ms", int), ("--window", float),
                         ("--windows", int), ("--transport", str), ("--poll", float)):  # fmt: skip
        parser.add_argument(option, type=kind, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args))))
        return
    if args.grpc_only:
        found = asyncio.run(grpc_naming(args.quick, not args.no_3x))
        print(json.dumps(found, indent=2))
        print(grpc_markdown(found))
        return
    print(json.dumps(asyncio.run(run(args.quick, not args.no_3x)), indent=2))


if __name__ == "__main__":
    main()
