"""Naming benchmark: client CPU of 1,000 heartbeating instances, list latency for 1,000.

The dev server runs in its own process. Figures: client CPU seconds per beat and as a share of
one core at the 5 s interval, beat-time drift over many intervals, and list_instances latency.

    python -m benchmarks.naming_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from benchmarks._harness import dev_server_process, environment, percentile, raise_fd_limit
from nacos_async import NacosClient


async def heartbeats(
    base: str, instances: int, seconds: float, settle: float = 6.0, beat_ms: int = 5000
) -> dict[str, Any]:
    address = base.removeprefix("http://")
    beat_times: list[float] = []
    async with NacosClient(address, username="nacos", password="nacos", pool_size=200) as client:
        client.add_event_hook(
            lambda e: beat_times.append(time.monotonic()) if e.kind == "heartbeat" else None
        )
        for i in range(instances):
            await client.naming.register_instance(
                "bench", f"10.1.{i // 250}.{i % 250 + 1}", 8080,
                metadata={"preserved.heart.beat.interval": str(beat_ms)},
            )  # fmt: skip
        await asyncio.sleep(settle)  # one interval to settle into the schedule
        beat_times.clear()
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        beats = len(beat_times)
        samples = []
        for _ in range(20):
            t0 = time.perf_counter()
            hosts = await client.naming.list_instances("bench")
            samples.append(time.perf_counter() - t0)
        assert len(hosts) == instances
    intervals = wall / (beat_ms / 1000)
    return {
        "instances": instances,
        "seconds": round(wall, 1),
        "beats": beats,
        "beats_expected": round(instances * intervals),
        "cpu_share_of_one_core": round(cpu / wall, 4),
        "cpu_us_per_beat": round(cpu / max(1, beats) * 1e6, 1),
        "list_p50_ms": round(percentile(samples, 0.5) * 1000, 2),
        "list_p99_ms": round(percentile(samples, 0.99) * 1000, 2),
    }


async def run(quick: bool) -> dict[str, Any]:
    raise_fd_limit(8192)
    async with dev_server_process("--flavor", "2.x") as (base, _):
        figures = await heartbeats(base, 200 if quick else 1000, 10 if quick else 60)
    return {"environment": environment(), "heartbeats": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async naming benchmark")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.quick)), indent=2))


if __name__ == "__main__":
    main()
