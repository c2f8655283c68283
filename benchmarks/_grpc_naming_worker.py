"""nacos-sdk-python 3.x's asyncio naming client, for naming_bench (runs in its own venv).

    python _grpc_naming_worker.py <mode> <host:port> <workdir> <service> <instances> \
        [<window> <windows>]

It speaks naming_bench's child protocol on stdin/stdout, in one of three modes:
- ``hold``: registers the instances (one batch: one instance per service per connection is the
  server's rule), prints ``ready``, reads the shared start time, measures its CPU over the
  windows and prints ``{"windows": [...], "rss_mb": ...}``;
- ``keep``: registers the instances, prints ``ready`` and stays until stdin closes;
- ``watch``: subscribes to the service, prints ``ready``, notes when each port first appears
  in a pushed list, and prints ``{"seen": {port: monotonic time}}`` once stdin closes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore")

from v2.nacos import (  # noqa: E402
    BatchRegisterInstanceParam,
    ClientConfigBuilder,
    NacosNamingService,
    RegisterInstanceParam,
    SubscribeServiceParam,
)


def address(i: int) -> str:
    return f"10.2.{i // 250}.{i % 250 + 1}"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def windows(start: float, window: float, count: int) -> list[dict[str, float]]:
    marks = []
    for k in range(count + 1):
        await asyncio.sleep(max(0.0, start + k * window - time.time()))
        marks.append(time.process_time())
    return [{"cpu": b - a, "beats": 0} for a, b in itertools.pairwise(marks)]


async def main(
    mode: str, server: str, workdir: str, service: str, count: int, extra: list[str]
) -> None:
    config = (
        ClientConfigBuilder()
        .server_address(server)
        .username("nacos")
        .password("nacos")
        .log_dir(os.path.join(workdir, "logs"))
        .cache_dir(os.path.join(workdir, "cache"))
        .log_level(logging.ERROR)
        .load_cache_at_start(False)
        .build()
    )
    naming = await NacosNamingService.create_naming_service(config)
    loop = asyncio.get_running_loop()

    def readline() -> asyncio.Future[str]:
        return loop.run_in_executor(None, sys.stdin.readline)

    if mode in ("hold", "keep"):
        instances = [
            RegisterInstanceParam(service_name=service, ip=address(i), port=8080)
            for i in range(count)
        ]
        await naming.batch_register_instances(
            BatchRegisterInstanceParam(service_name=service, instances=instances)
        )
        print("ready", flush=True)
        if mode == "hold":
            start = float(await readline())
            found = await windows(start, float(extra[0]), int(extra[1]))
            print(json.dumps({"windows": found, "rss_mb": rss_mb()}), flush=True)
        else:
            await readline()
    else:
        seen: dict[int, float] = {}

        async def on_change(hosts: list[Any]) -> None:
            now = time.monotonic()
            for host in hosts:
                seen.setdefault(host.port, now)

        await naming.subscribe(
            SubscribeServiceParam(service_name=service, subscribe_callback=on_change)
        )
        print("ready", flush=True)
        await readline()
        print(json.dumps({"seen": seen}), flush=True)
    await naming.shutdown()


if __name__ == "__main__":
    mode, server, workdir, service, count, *rest = sys.argv[1:]
    asyncio.run(main(mode, server, workdir, service, int(count), rest))
