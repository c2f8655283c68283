"""Config benchmark: publish-to-callback latency, memory for many watched keys, MD5-poll cost.

The dev server runs in its own process. Figures: p50/p99 of publish -> watcher callback on the
long-poll flavor, client RSS growth for N watched keys, and reads per second the MD5 poller
(Nacos 3.2) costs the server per 1,000 keys.

    python -m benchmarks.config_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
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


async def latency(base: str, rounds: int) -> dict[str, float]:
    address = base.removeprefix("http://")
    async with NacosClient(address, username="nacos", password="nacos") as client:
        await client.config.publish("latency", "v-1")
        arrived: asyncio.Queue[float] = asyncio.Queue()

        def on_change(change: ConfigChange) -> None:
            arrived.put_nowait(time.perf_counter())

        await client.config.add_listener("latency", on_change)
        await asyncio.sleep(0.3)  # let the first long-poll settle on the server
        samples = []
        for i in range(rounds):
            sent = time.perf_counter()
            await client.config.publish("latency", f"v{i}")
            samples.append((await asyncio.wait_for(arrived.get(), 10)) - sent)
    return {"p50_ms": percentile(samples, 0.5) * 1000, "p99_ms": percentile(samples, 0.99) * 1000}


async def watched_memory(base: str, keys: int) -> dict[str, Any]:
    address = base.removeprefix("http://")
    async with NacosClient(address, username="nacos", password="nacos", pool_size=200) as client:
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


async def md5_poll_cost(base: str, keys: int, seconds: float) -> dict[str, Any]:
    address = base.removeprefix("http://")
    async with NacosClient(address, username="nacos", password="nacos",
                           config_poll_interval=5, config_poll_budget=50) as client:  # fmt: skip
        for i in range(keys):
            await client.config.add_listener(f"key-{i}", lambda _change: None)
        start = client.stats.requests
        await asyncio.sleep(seconds)
        rate = (client.stats.requests - start) / seconds
    return {"keys": keys, "server_reads_per_second": round(rate, 1),
            "per_1000_keys": round(rate / keys * 1000, 1), "budget": 50}  # fmt: skip


async def run(quick: bool) -> dict[str, Any]:
    raise_fd_limit(8192)
    keys = 1000 if quick else 10_000
    async with dev_server_process("--flavor", "3.1") as (base, _):
        lat = await latency(base, 20 if quick else 200)
        mem = await watched_memory_isolated(base, keys)
    async with dev_server_process("--flavor", "3.2") as (base, _):
        cost = await md5_poll_cost(base, 200 if quick else 1000, 5 if quick else 20)
    return {"environment": environment(), "latency": lat, "memory": mem, "md5_polling": cost}


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
