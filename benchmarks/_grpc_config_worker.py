"""nacos-sdk-python 3.x's asyncio config client reading one config (runs in its own venv).

    python _grpc_config_worker.py <host:port> <workdir>

It connects once (gRPC, grpcio), then answers one JSON command per line on stdin with one JSON
line on stdout: ``{"op": "run", "concurrency": N, "seconds": S}`` reads the benchmark config
with N coroutines for S seconds (``NacosConfigService.get_config``, a server query each time)
and prints the reads, errors, wall and CPU seconds; ``{"op": "exit"}`` ends it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import warnings
from typing import Any

warnings.simplefilter("ignore")

from v2.nacos import ClientConfigBuilder, ConfigParam, NacosConfigService  # noqa: E402

CONFIG = {"data_id": "bench.yaml", "group": "DEFAULT_GROUP"}


async def main(address: str, workdir: str) -> None:
    config = (
        ClientConfigBuilder()
        .server_address(address)
        .username("nacos")
        .password("nacos")
        .log_dir(os.path.join(workdir, "logs"))
        .cache_dir(os.path.join(workdir, "cache"))
        .log_level(logging.ERROR)
        .load_cache_at_start(False)
        .build()
    )
    service = await NacosConfigService.create_config_service(config)
    await service.get_config(ConfigParam(**CONFIG))  # connected and logged in before timing

    async def run(concurrency: int, seconds: float) -> dict[str, Any]:
        counts = {"count": 0, "errors": 0}
        deadline = time.perf_counter() + seconds

        async def reader() -> None:
            while time.perf_counter() < deadline:
                try:
                    await service.get_config(ConfigParam(**CONFIG))
                    counts["count"] += 1
                except Exception:
                    counts["errors"] += 1

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(reader() for _ in range(concurrency)))
        return counts | {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu}

    loop = asyncio.get_running_loop()
    print(json.dumps({"ready": True}), flush=True)
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = json.loads(line)
        if command["op"] == "exit":
            break
        print(json.dumps(await run(command["concurrency"], command["seconds"])), flush=True)
    await service.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
