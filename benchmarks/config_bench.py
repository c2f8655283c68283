"""Config benchmark: publish-to-delivery latency versus watched keys, and memory for many keys.

The dev server runs in its own process. For each way of watching (gRPC push on Nacos 3.2, MD5
polling over HTTP on 3.2, long-poll on 2.x) and each number of watched keys: the time to start
watching them all, then publish-to-listener latency (p50/p99) for keys picked at random among
them (published by one HTTP client for every mode), and the requests per second the watcher
sends meanwhile. Then the client's RSS growth for many watched keys.
(Config GET throughput against raw aiohttp is measured beside ``client.request()`` in
``token_bench``.)

    python -m benchmarks.config_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks._harness import (
    dev_server_process,
    environment,
    json_from_process,
    percentile,
    raise_fd_limit,
    rss_mb,
)
from nacos_async import NacosClient
from nacos_async.config import ConfigChange


@dataclass(frozen=True)
class WatchMode:
    """One way the watcher learns of changes: a row of the latency table."""

    label: str
    flavor: str  # the dev server's
    options: dict[str, Any] = field(default_factory=dict)  # the watcher client's settings
    polled: bool = False  # changes are found by a polling cycle, not pushed


WATCH_MODES = [
    WatchMode("gRPC push (3.2)", "3.2", {"transport": "grpc"}),
    WatchMode("MD5 polling (3.2)", "3.2", {"transport": "http"}, polled=True),
    WatchMode("long-poll (2.x)", "2.x", {"transport": "http"}),
]
GRPC_TARGET_MS = 10.0  # gRPC push p50 at 1,000 watched keys on 3.2


async def _in_chunks(calls: Iterable[Awaitable[Any]], size: int = 200) -> None:
    chunk: list[Awaitable[Any]] = []
    for call in calls:
        chunk.append(call)
        if len(chunk) == size:
            await asyncio.gather(*chunk)
            chunk = []
    await asyncio.gather(*chunk)


async def delivery(
    base: str, keys: int, samples: int, mode: WatchMode, seed: int = 1
) -> dict[str, Any]:
    """Watch ``keys`` keys as ``mode`` says; time publish -> listener for keys picked at random.

    Against a polling watcher, publishes are spread at random over one polling cycle, so that
    they land at random points of its schedule (not right after the read that saw the last one).
    Against a pushed or long-polled one, they go one at a time: a row then measures the latency
    at that many watched keys, not how a burst of simultaneous publishes queues (``burst``).
    """
    address = base.removeprefix("http://")
    names = [f"watched-{i}" for i in range(keys)]
    rng = random.Random(seed)
    latencies: list[float] = []
    async with NacosClient(
        address, username="nacos", password="nacos", transport="http"
    ) as publisher:
        await _in_chunks(publisher.config.publish(name, "v0") for name in names)
        async with NacosClient(
            address, username="nacos", password="nacos", **mode.options
        ) as watcher:
            loop = asyncio.get_running_loop()
            expected: dict[str, tuple[str, asyncio.Future[float]]] = {}

            def on_change(change: ConfigChange) -> None:
                wanted = expected.get(change.data_id)
                if wanted and change.content == wanted[0] and not wanted[1].done():
                    wanted[1].set_result(time.perf_counter())

            started = time.perf_counter()
            await _in_chunks(watcher.config.add_listener(name, on_change) for name in names)
            start_seconds = time.perf_counter() - started
            settings = watcher.settings
            cycle = max(settings.config_poll_interval, keys / settings.config_poll_budget)
            spread = cycle if mode.polled else 0.0
            requests, clock = watcher.stats.requests, time.perf_counter()

            async def publish(name: str, content: str, delay: float) -> float:
                await asyncio.sleep(delay)
                expected[name] = (content, loop.create_future())
                sent = time.perf_counter()
                await publisher.config.publish(name, content)
                return (await expected[name][1]) - sent

            turn = 0
            while len(latencies) < samples:
                turn += 1
                picked = rng.sample(names, min(keys, samples - len(latencies)))
                if not mode.polled:
                    for name in picked:
                        latencies.append(await asyncio.wait_for(publish(name, f"v{turn}", 0), 30))
                    continue
                latencies += await asyncio.wait_for(
                    asyncio.gather(
                        *(publish(name, f"v{turn}", rng.uniform(0, spread)) for name in picked)
                    ),
                    spread + 2 * cycle + 30,
                )
            requests = watcher.stats.requests - requests
            rate = requests / (time.perf_counter() - clock)
    p50_ms = round(percentile(latencies, 0.5) * 1000, 1)
    row: dict[str, Any] = {
        "mode": mode.label,
        "keys": keys,
        "samples": len(latencies),
        "start_watching_s": round(start_seconds, 3),
        "p50_ms": p50_ms,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "watcher_requests_per_s": round(rate, 1),
        "watcher_requests_per_change": round(requests / len(latencies), 1),
    }
    if mode.options.get("transport") == "grpc" and keys == 1000:
        gap = GRPC_TARGET_MS - p50_ms
        row["target"] = {"goal": f"<= {GRPC_TARGET_MS:g} ms", "met": gap >= 0, "gap": round(gap, 1)}
    return row


async def watched_memory(base: str, keys: int) -> dict[str, Any]:
    address = base.removeprefix("http://")
    async with NacosClient(
        address, username="nacos", password="nacos", pool_size=200, transport="http"
    ) as client:
        before = rss_mb()
        for i in range(keys):
            await client.config.add_listener(f"key-{i}", lambda _change: None)
        await asyncio.sleep(1.0)
        after = rss_mb()
        polls = client.stats.requests
    return {"keys": keys, "rss_mb_before": before, "rss_mb_after": after,
            "rss_mb_per_1000_keys": ((after or 0) - (before or 0)) / keys * 1000, "requests": polls}  # fmt: skip


async def watched_memory_isolated(base: str, keys: int) -> dict[str, Any]:
    """``watched_memory`` in a fresh process, so that earlier scenarios' heap does not hide it."""
    return await json_from_process(
        sys.executable, "-m", "benchmarks.config_bench", "--memory-only", str(keys), "--base", base
    )


async def run(quick: bool) -> dict[str, Any]:
    raise_fd_limit(8192)
    counts, samples = ((10, 100, 1000), 10) if quick else ((10, 100, 1000, 5000), 50)
    rows = []
    for mode in WATCH_MODES:
        async with dev_server_process("--flavor", mode.flavor) as (base, _):
            rows += [await delivery(base, keys, samples, mode) for keys in counts]
    async with dev_server_process("--flavor", "2.x") as (base, _):
        memory = await watched_memory_isolated(base, 1000 if quick else 10_000)
    return {"environment": environment(), "delivery": rows, "memory": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async config benchmark")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-only", type=int, metavar="KEYS", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_only:
        print(json.dumps(asyncio.run(watched_memory(args.base, args.memory_only))))
        return
    print(json.dumps(asyncio.run(run(args.quick)), indent=2))


if __name__ == "__main__":
    main()
