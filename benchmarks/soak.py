"""Soak test (not in CI): mixed load for an hour, 2 s token TTL, random faults from a seed.

Reports requests, surfaced errors (target 0), logins per token lifetime, open file descriptors
and memory at start and end (target: flat), and lost config updates (target 0).

    python -m benchmarks.soak [--minutes 60] [--seed 1] [--readers 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from typing import Any

from benchmarks._harness import control, dev_server_process, environment, rss_mb
from nacos_async import NacosClient, NacosError

FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("rotate-secret", {}),
    ("expire-tokens", {}),
    ("fail-next", {"count": 10, "status": 503}),
    ("reset-connections", {}),
    ("latency", {"seconds": 0.2}),
    ("latency", {"seconds": 0}),
    ("forget-instances", {}),
]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1


async def soak(minutes: float, seed: int, readers: int) -> dict[str, Any]:
    rng = random.Random(seed)
    ttl = 2
    async with dev_server_process("--flavor", "2.x", "--token-ttl", str(ttl)) as (base, _):
        address = base.removeprefix("http://")
        client = NacosClient(address, username="nacos", password="nacos", relogin_min_interval=0)
        surfaced: list[str] = []
        published = 0
        last_seen: str | None = None
        faults: dict[str, int] = {}
        async with client:
            await client.config.publish("soak", "seq 0")
            await client.naming.register_instance("soak-svc", "10.7.7.7", 7000)
            fds_start, rss_start = open_fds(), rss_mb()
            deadline = time.monotonic() + minutes * 60

            async def reader() -> None:
                while time.monotonic() < deadline:
                    try:
                        await client.config.get("soak")
                        await client.naming.list_instances("soak-svc")
                    except NacosError as exc:
                        surfaced.append(str(exc))
                    await asyncio.sleep(0.01)

            async def publisher() -> None:
                nonlocal published
                while time.monotonic() < deadline:
                    await asyncio.sleep(1)
                    try:
                        await client.config.publish("soak", f"seq {published + 1}")
                        published += 1
                    except NacosError as exc:
                        surfaced.append(str(exc))

            async def watcher() -> None:
                nonlocal last_seen
                async for change in client.config.watch("soak"):
                    last_seen = change.content

            async def chaos() -> None:
                while time.monotonic() < deadline:
                    await asyncio.sleep(rng.uniform(3, 15))
                    action, params = rng.choice(FAULTS)
                    faults[action] = faults.get(action, 0) + 1
                    await control(base, action, **params)

            watch_task = asyncio.create_task(watcher())
            started = time.monotonic()
            await asyncio.gather(*(reader() for _ in range(readers)), publisher(), chaos())
            await control(base, "latency", seconds=0)
            for _ in range(200):  # let the watcher catch up with the last publish (bounded)
                if last_seen == f"seq {published}":
                    break
                await asyncio.sleep(0.05)
            watch_task.cancel()
            await asyncio.gather(watch_task, return_exceptions=True)
            elapsed = time.monotonic() - started
            stats = client.stats
            fds_end, rss_end = open_fds(), rss_mb()
    return {
        "environment": environment(),
        "minutes": round(elapsed / 60, 1),
        "seed": seed,
        "requests": stats.requests,
        "surfaced_errors": len(surfaced),
        "first_errors": surfaced[:3],
        "logins_per_lifetime": round(stats.logins / (1 + elapsed / (ttl * 11 / 12)), 2),
        "replays": stats.replays,
        "faults": faults,
        "open_fds": [fds_start, fds_end],
        "rss_mb": [round(rss_start or 0, 1), round(rss_end or 0, 1)],
        "publishes": published,
        "lost_updates": 0 if last_seen == f"seq {published}" else 1,
        "heartbeats": stats.heartbeats,
        "reregistrations": stats.reregistrations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async soak test")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--readers", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(soak(args.minutes, args.seed, args.readers)), indent=2))


if __name__ == "__main__":
    main()
