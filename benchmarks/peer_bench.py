"""Read throughput against the official HTTP client, nacos-sdk-python 2.0.11 (threads).

Both read the same config from the dev server (auth on, in its own process) at the same
concurrency: nacos-async with coroutines, nacos-sdk-python with a thread per worker. Reported:
requests per second and client CPU per 1,000 requests, and the ratio.

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

from benchmarks._harness import dev_server_process, environment
from benchmarks.token_bench import CONFIG, nacos_fetch, run_phase, static_token
from nacos_async import NacosClient


def peer_phase(address: str, concurrency: int, duration: float) -> dict[str, float]:
    from nacos import NacosClient as PeerClient  # nacos-sdk-python 2.0.11, stdlib only

    logging.getLogger("nacos").setLevel(logging.ERROR)
    peer = PeerClient(address, username="nacos", password="nacos")
    peer.get_config(CONFIG["dataId"], CONFIG["group"], no_snapshot=True)  # log in once
    count = errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker() -> None:
        nonlocal count, errors
        while time.perf_counter() < deadline:
            try:
                peer.get_config(CONFIG["dataId"], CONFIG["group"], no_snapshot=True)
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
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"rps": count / wall, "cpu_per_1000": cpu / max(1, count) * 1000, "errors": errors}


async def run(quick: bool) -> dict[str, Any]:
    duration = 3.0 if quick else 10.0
    rows = []
    async with dev_server_process("--flavor", "2.x") as (base, _):
        await static_token(base)  # publishes the config
        address = base.removeprefix("http://")
        for concurrency in (10, 100):
            peer = await asyncio.to_thread(peer_phase, address, concurrency, duration)
            async with NacosClient(address, username="nacos", password="nacos",
                                   pool_size=concurrency) as client:  # fmt: skip
                ours = await run_phase(nacos_fetch(client), concurrency, duration)
            our_rps = ours.requests / ours.seconds
            rows.append({
                "concurrency": concurrency,
                "nacos_async_rps": round(our_rps),
                "nacos_sdk_python_rps": round(peer["rps"]),
                "throughput_ratio": round(our_rps / peer["rps"], 2) if peer["rps"] else None,
                "nacos_async_cpu_s_per_1000": round(ours.cpu / max(1, ours.requests) * 1000, 3),
                "nacos_sdk_python_cpu_s_per_1000": round(peer["cpu_per_1000"], 3),
                "errors": {"nacos_async": ours.forbidden + ours.errors, "nacos_sdk_python": peer["errors"]},
            })  # fmt: skip
    return {"environment": environment(), "read_throughput": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async against nacos-sdk-python 2.0.11")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.quick)), indent=2))


if __name__ == "__main__":
    main()
