"""Read throughput against the official HTTP client, nacos-sdk-python 2.0.11 (threads).

All read the same config from the dev server (auth on, in its own process) at the same
concurrency, in short slices whose order rotates (``_compare``): nacos-async with coroutines,
nacos-sdk-python with a thread per worker, raw aiohttp with a static token, and raw aiohttp again
(the noise row). Reported: requests per second, client CPU per request, and the ratios
(min/median/max over repeats) with the target of 8x nacos-sdk-python.

    python -m benchmarks.peer_bench [--quick]    # needs: pip install --no-deps nacos-sdk-python==2.0.11
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import threading
import time
from typing import Any

from benchmarks._compare import Sample, Target, compare, cpu_per_op, rate
from benchmarks._harness import dev_server_process, environment
from benchmarks.token_bench import (
    CONFIG,
    RAW,
    RAW_AGAIN,
    Phase,
    nacos_fetch,
    phase_slice,
    raw_fetch,
    raw_session,
    static_token,
)
from nacos_async import NacosClient

OURS, PEER = "nacos-async", "nacos-sdk-python 2.0.11"
PEER_TARGET = Target(">=", 8.0)  # the target at concurrency 10 and 100


class PeerReaders:
    """nacos-sdk-python 2.0.11's client, logged in once, read by one thread per worker."""

    def __init__(self, address: str) -> None:
        from nacos import NacosClient as PeerClient  # nacos-sdk-python 2.0.11, stdlib only

        logging.getLogger("nacos").setLevel(logging.ERROR)
        self.client = PeerClient(address, username="nacos", password="nacos")
        self.errors = 0
        self.read()  # log in once

    def read(self) -> None:
        self.client.get_config(CONFIG["dataId"], CONFIG["group"], no_snapshot=True)

    def run(self, concurrency: int, duration: float) -> Sample:
        """Read for ``duration`` seconds with ``concurrency`` threads."""
        count = errors = 0
        lock = threading.Lock()
        deadline = time.perf_counter() + duration

        def worker() -> None:
            nonlocal count, errors
            while time.perf_counter() < deadline:
                try:
                    self.read()
                    with lock:
                        count += 1
                except Exception:
                    with lock:
                        errors += 1

        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.errors += errors
        return Sample(count, time.perf_counter() - wall0, time.process_time() - cpu0)


async def read_throughput(
    base: str, concurrency: int, duration: float, rounds: int, repeats: int
) -> dict[str, Any]:
    address = base.removeprefix("http://")
    token = await static_token(base)  # also publishes the config
    peer = await asyncio.to_thread(PeerReaders, address)
    phases: dict[str, list[Phase]] = {OURS: [], RAW: [], RAW_AGAIN: []}

    async def peer_slice() -> Sample:
        return await asyncio.to_thread(peer.run, concurrency, duration)

    async with (
        NacosClient(address, username="nacos", password="nacos", pool_size=concurrency) as client,
        raw_session(concurrency) as http,
        raw_session(concurrency) as http_again,
    ):
        runs = await compare(
            {
                OURS: phase_slice(nacos_fetch(client), concurrency, duration, phases[OURS]),
                PEER: peer_slice,
                RAW: phase_slice(raw_fetch(http, base, token), concurrency, duration, phases[RAW]),
                RAW_AGAIN: phase_slice(
                    raw_fetch(http_again, base, token), concurrency, duration, phases[RAW_AGAIN]
                ),
            },
            rounds,
            repeats,
        )
    vs_peer = runs.ratio(OURS, PEER, rate)
    return {
        "concurrency": concurrency,
        "rounds": rounds,
        "repeats": repeats,
        "slice_seconds": duration,
        "nacos_async_rps": round(rate(runs.total(OURS))),
        "nacos_sdk_python_rps": round(rate(runs.total(PEER))),
        "raw_rps": round(rate(runs.total(RAW))),
        "vs_nacos_sdk_python": vs_peer.as_dict(2),
        "target": PEER_TARGET.judge(vs_peer),
        "cpu_vs_nacos_sdk_python": runs.ratio(OURS, PEER, cpu_per_op).as_dict(),
        "vs_raw": runs.ratio(OURS, RAW, rate).as_dict(),
        "noise_raw_vs_raw": runs.ratio(RAW_AGAIN, RAW, rate).as_dict(),
        "nacos_async_cpu_ms_per_request": round(cpu_per_op(runs.total(OURS)) * 1000, 3),
        "nacos_sdk_python_cpu_ms_per_request": round(cpu_per_op(runs.total(PEER)) * 1000, 3),
        "errors": {
            OURS: sum(p.forbidden + p.errors for p in phases[OURS]),
            PEER: peer.errors,
            "raw": sum(p.forbidden + p.errors for p in phases[RAW] + phases[RAW_AGAIN]),
        },
    }


async def run(quick: bool) -> dict[str, Any]:
    duration, rounds, repeats = (0.4, 2, 3) if quick else (1.5, 2, 5)
    async with dev_server_process("--flavor", "2.x") as (base, _):
        rows = [
            await read_throughput(base, concurrency, duration, rounds, repeats)
            for concurrency in (10, 100)
        ]
    return {"environment": environment(), "read_throughput": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async against nacos-sdk-python 2.0.11")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.quick)), indent=2))


if __name__ == "__main__":
    main()
