"""nacos-sdk-python 3.x's asyncio ``AuthClient`` under concurrent readers (runs in its own venv).

    python _auth_client_worker.py <base-url> <concurrency> <seconds>

The 3.x SDK's config and naming need gRPC, so only its login path is a contender: each reader
asks ``AuthClient.get_access_token()`` for the token before every request, as the SDK does, and
reads the benchmark config with it in the ``accessToken`` header. The AuthClient has no replay,
so a 403 is surfaced to the caller. Prints JSON: requests, 403s, other errors and CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

import aiohttp
from v2.nacos.common.client_config import ClientConfig
from v2.nacos.transport.auth_client import AuthClient
from v2.nacos.transport.http_agent import HttpAgent

CONFIG = {"dataId": "bench.yaml", "group": "DEFAULT_GROUP"}


async def main(base: str, concurrency: int, seconds: float) -> dict[str, Any]:
    # The AuthClient logs the token itself at INFO: keep its logger quiet.
    logger = logging.getLogger("peer-auth-client")
    logger.setLevel(logging.ERROR)
    config = ClientConfig(server_addresses=base, username="nacos", password="nacos")
    auth = AuthClient(logger, config, lambda: config.server_list, HttpAgent(logger, None, 10))
    counts = {"requests": 0, "forbidden": 0, "errors": 0}
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def reader(http: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            try:
                token = await auth.get_access_token(False)
                async with http.get(f"{base}/nacos/v1/cs/configs", params=CONFIG,
                                    headers={"accessToken": token}) as resp:  # fmt: skip
                    await resp.read()
                    status = resp.status
            except Exception:
                status = 599
            key = {200: "requests", 403: "forbidden"}.get(status, "errors")
            counts[key] += 1

    cpu = time.process_time()
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(reader(http) for _ in range(concurrency)))
    return counts | {"cpu_seconds": time.process_time() - cpu}


if __name__ == "__main__":
    url, level, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(asyncio.run(main(url, level, duration))))
