"""Dev-server benchmark (not run in CI): config GET throughput and 10,000 held long-polls.

The server runs in its own process (``python -m nacos_async.testing``), so the figures are the
server's, not shared with the load generator; its memory is read from /proc (Linux).

    python -m benchmarks.devserver_bench [--duration 5] [--concurrency 64] [--polls 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

import aiohttp

from benchmarks._harness import free_port, raise_fd_limit, rss_mb, wait_until_up


async def bench_get(base: str, duration: float, concurrency: int) -> tuple[float, int]:
    """Requests per second of ``GET /v1/cs/configs`` over keep-alive connections."""
    url = f"{base}/nacos/v1/cs/configs"
    params = {"dataId": "bench.yaml", "group": "DEFAULT_GROUP"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async with http.post(url, data=params | {"content": "k: v\n" * 20}) as resp:
            assert resp.status == 200
        count = 0
        errors = 0
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal count, errors
            while time.perf_counter() < deadline:
                async with http.get(url, params=params) as resp:
                    await resp.read()
                    if resp.status == 200:
                        count += 1
                    else:
                        errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started), errors


async def listeners(http: aiohttp.ClientSession, base: str) -> int:
    async with http.get(f"{base}/__dev__/stats") as resp:
        value: int = (await resp.json())["result"]["listeners"]
        return value


async def bench_long_polls(base: str, polls: int, pid: int) -> dict[str, float | None]:
    """Park ``polls`` listeners (each on its own key and a shared one), then wake them all."""
    url = f"{base}/nacos/v1/cs/configs/listener"
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    before = rss_mb(pid)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        answered: list[float] = []

        async def poll(i: int) -> None:
            probe = f"own{i}\x02G\x02\x01shared\x02G\x02\x01"
            headers = {"Long-Pulling-Timeout": "60000"}
            async with http.post(url, data={"Listening-Configs": probe}, headers=headers) as r:
                body = await r.text()
                assert r.status == 200 and "shared" in body, (r.status, body)
                answered.append(time.perf_counter())

        started = time.perf_counter()
        tasks = [asyncio.create_task(poll(i)) for i in range(polls)]
        while await listeners(http, base) < polls:  # noqa: ASYNC110 (polls another process)
            await asyncio.sleep(0.1)
        parked_in = time.perf_counter() - started
        await asyncio.sleep(1.0)  # let the server settle before reading its memory
        held = rss_mb(pid)
        published = time.perf_counter()
        form = {"dataId": "shared", "group": "G", "content": "now"}
        async with http.post(f"{base}/nacos/v1/cs/configs", data=form) as resp:
            assert resp.status == 200
        await asyncio.gather(*tasks)
        return {
            "polls": polls,
            "seconds_to_park_all": parked_in,
            "rss_mb_idle": before,
            "rss_mb_holding": held,
            "kb_per_poll": ((held - before) * 1024 / polls) if held and before else None,
            "seconds_publish_to_last_answer": max(answered) - published,
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of GET load")
    parser.add_argument("--concurrency", type=int, default=64, help="parallel GET workers")
    parser.add_argument("--polls", type=int, default=10_000, help="held long-polls")
    args = parser.parse_args()
    # Each side (this process, the server process) holds one socket per poll.
    limit = raise_fd_limit(args.polls + 512)
    if limit < args.polls + 64:
        print(f"warning: open-files limit {limit} is low for {args.polls} polls", file=sys.stderr)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nacos_async.testing", "--port", str(port), "--no-auth",
        "--quiet", "--flavor", "2.x",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base, proc)
        rps, errors = await bench_get(base, args.duration, args.concurrency)
        polls = await bench_long_polls(base, args.polls, proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
    results = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "config_get": {
            "requests_per_second": round(rps),
            "errors": errors,
            "concurrency": args.concurrency,
            "seconds": args.duration,
        },
        "long_polls": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in polls.items()},
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
