"""Naming benchmark: the client CPU of heartbeats against raw aiohttp, and list latency.

Heartbeats are background work at a fixed pace, so contenders cannot take turns in one process
(``_compare``'s slices): each runs in its own process at the same time instead, and measures its
own CPU over the same windows of wall time, so that all see the same noise. The contenders:
nacos-async, raw aiohttp sending the same beats at the same pace (one loop, a heap of due times,
light beats when the server allows them, as the client does), and raw aiohttp again (the noise
row). Run on the 2.x flavor (v1 beats) and the 3.2 flavor (v3 beats); reported: CPU per beat,
the ratio ours/raw (min/median/max over windows), beats sent against expected, and
list_instances latency for nacos-async's instances.

    python -m benchmarks.naming_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from benchmarks._compare import Spread, Target
from benchmarks._harness import dev_server_process, environment, percentile, raise_fd_limit
from nacos_async import NacosClient

OURS, RAW, RAW_AGAIN = "nacos-async", "raw aiohttp", "raw aiohttp again"
BEAT_TARGET = Target("<=", 1.0)  # per-beat CPU against raw aiohttp
LIST_TARGET = Target("<=", 10.0)  # list_instances p50 in ms, for 1,000 instances
FLAVORS = {"2.x": "v1", "3.2": "v3"}  # the beats each flavor gets


def _address(i: int) -> str:
    return f"10.1.{i // 250}.{i % 250 + 1}"


def _metadata(beat_ms: int) -> dict[str, str]:
    return {"preserved.heart.beat.interval": str(beat_ms)}


class RawBeats:
    """The floor: the same registrations and beats as nacos-async, straight through aiohttp."""

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


async def child(args: argparse.Namespace) -> dict[str, Any]:
    """One contender, in its own process (see the module docstring)."""
    address = args.base.removeprefix("http://")
    interval = args.beat_ms / 1000
    if args.child == "ours":
        # Beats are read from stats: an event hook would make every request build an event.
        async with NacosClient(address, username="nacos", password="nacos", pool_size=200) as c:
            for i in range(args.instances):
                await c.naming.register_instance(
                    args.service, _address(i), 8080, metadata=_metadata(args.beat_ms)
                )
            await asyncio.sleep(interval)  # one interval to settle into the schedule
            start = await _ready_then_start()
            windows = await _windows(start, args.window, args.windows, lambda: c.stats.heartbeats)
            p50s, p99s = [], []
            for _ in range(5):
                samples = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    hosts = await c.naming.list_instances(args.service)
                    samples.append(time.perf_counter() - t0)
                p50s.append(percentile(samples, 0.5) * 1000)
                p99s.append(percentile(samples, 0.99) * 1000)
            if len(hosts) != args.instances:
                raise RuntimeError(f"listed {len(hosts)} of {args.instances} instances")
        return {"windows": windows, "list_p50_ms": p50s, "list_p99_ms": p99s}
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
    base: str, flavor: str, instances: int, beat_ms: int, window: float, windows: int
) -> dict[str, Any]:
    """All three contenders at once against the dev server at ``base`` (of ``flavor``)."""
    procs: dict[str, asyncio.subprocess.Process] = {}
    for name, kind in ((OURS, "ours"), (RAW, "raw"), (RAW_AGAIN, "raw")):
        procs[name] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.naming_bench", "--child", kind, "--base", base,
            "--api", FLAVORS[flavor], "--service", f"bench-{kind}-{len(procs)}",
            "--instances", str(instances), "--beat-ms", str(beat_ms),
            "--window", str(window), "--windows", str(windows),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
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
        "list_target": LIST_TARGET.judge(list_p50),
    }


async def run(quick: bool) -> dict[str, Any]:
    raise_fd_limit(8192)
    instances, beat_ms, window, windows = (200, 2000, 2.0, 3) if quick else (1000, 5000, 10.0, 6)
    rows = []
    for flavor in FLAVORS:
        async with dev_server_process("--flavor", flavor) as (base, _):
            rows.append(await heartbeats(base, flavor, instances, beat_ms, window, windows))
    return {"environment": environment(), "heartbeats": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async naming benchmark")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", choices=["ours", "raw"], help=argparse.SUPPRESS)
    for option, kind in (("--base", str), ("--api", str), ("--service", str),
                         ("--instances", int), ("--beat-ms", int), ("--window", float),
                         ("--windows", int)):  # fmt: skip
        parser.add_argument(option, type=kind, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args))))
        return
    print(json.dumps(asyncio.run(run(args.quick)), indent=2))


if __name__ == "__main__":
    main()
