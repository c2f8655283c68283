"""Service calls by name: what ``ServiceSession`` adds to a plain aiohttp call.

The called service is a tiny aiohttp app in its own process, registered in an in-process dev
server; both contenders share one aiohttp session (same connection pool), and their phases
alternate to cancel drift. Figures per call: wall time and client CPU, plain and by name.

    python -m benchmarks.service_call_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from nacos_async import NacosClient
from nacos_async.integrations.service_session import ServiceSession
from nacos_async.testing import NacosDevServer

SERVICE_APP = """
import asyncio
import signal

from aiohttp import web


async def ping(request):
    return web.json_response({"ok": True})


async def main():
    app = web.Application()
    app.router.add_get("/ping", ping)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


asyncio.run(main())
"""


async def _phase(
    call: Callable[[], Awaitable[None]], calls: int, concurrency: int
) -> tuple[float, float]:
    """Wall and CPU seconds for ``calls`` calls made by ``concurrency`` workers."""
    per_worker = max(1, calls // concurrency)

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall0, time.process_time() - cpu0


async def measure(base_port: int, concurrency: int, calls: int, rounds: int) -> dict[str, Any]:
    plain_wall: list[float] = []
    plain_cpu: list[float] = []
    named_wall: list[float] = []
    named_cpu: list[float] = []
    async with (
        NacosDevServer(auth=False) as server,
        NacosClient(server.address) as nacos,
        aiohttp.ClientSession() as session,
        ServiceSession(nacos, session=session) as http,
    ):
        await nacos.naming.register_instance("orders", "127.0.0.1", base_port)
        direct = f"http://127.0.0.1:{base_port}/ping"

        async def plain() -> None:
            async with session.get(direct) as resp:
                await resp.read()

        async def by_name() -> None:
            async with http.get("http://orders/ping") as resp:
                await resp.read()

        warm_up = min(200, calls)
        await _phase(plain, warm_up, concurrency)  # both, the watch included
        await _phase(by_name, warm_up, concurrency)
        for _ in range(rounds):
            wall, cpu = await _phase(plain, calls, concurrency)
            plain_wall.append(wall)
            plain_cpu.append(cpu)
            wall, cpu = await _phase(by_name, calls, concurrency)
            named_wall.append(wall)
            named_cpu.append(cpu)
    n = max(1, calls // concurrency) * concurrency
    plain_us = statistics.median(plain_wall) / n * 1e6
    named_us = statistics.median(named_wall) / n * 1e6
    plain_cpu_us = statistics.median(plain_cpu) / n * 1e6
    named_cpu_us = statistics.median(named_cpu) / n * 1e6
    return {
        "concurrency": concurrency,
        "calls_per_phase": n,
        "rounds": rounds,
        "plain_us_per_call": round(plain_us, 1),
        "by_name_us_per_call": round(named_us, 1),
        "overhead_us_per_call": round(named_us - plain_us, 1),
        "wall_ratio": round(named_us / plain_us, 3),
        "plain_cpu_us_per_call": round(plain_cpu_us, 1),
        "by_name_cpu_us_per_call": round(named_cpu_us, 1),
        "cpu_overhead_us_per_call": round(named_cpu_us - plain_cpu_us, 1),
        "cpu_ratio": round(named_cpu_us / plain_cpu_us, 3),
    }


async def run(
    quick: bool,
    *,
    calls: int | None = None,
    rounds: int | None = None,
    levels: tuple[int, ...] = (1, 10, 50),
) -> dict[str, Any]:
    """Every concurrency level against one service process."""
    calls = calls or (1000 if quick else 10000)
    rounds = rounds or (3 if quick else 5)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVICE_APP, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    try:
        port = int(await asyncio.wait_for(proc.stdout.readline(), 30))
        rows = [await measure(port, level, calls, rounds) for level in levels]
    finally:
        proc.terminate()
        await proc.wait()
    return {"service_calls": rows}


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| concurrency | plain aiohttp µs/call | by name µs/call | added µs/call | "
        "client CPU µs/call plain / by name | CPU ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["service_calls"]:
        lines.append(
            f"| {r['concurrency']} | {r['plain_us_per_call']} | {r['by_name_us_per_call']} | "
            f"{r['overhead_us_per_call']} | {r['plain_cpu_us_per_call']} / "
            f"{r['by_name_cpu_us_per_call']} | {r['cpu_ratio']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="ServiceSession against plain aiohttp")
    parser.add_argument("--quick", action="store_true", help="1,000 calls per phase, 3 rounds")
    parser.add_argument("--calls", type=int, help="calls per phase (default 10,000)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 5)")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick, calls=args.calls, rounds=args.rounds))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
