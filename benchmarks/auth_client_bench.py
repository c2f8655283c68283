"""The login scenarios for nacos-sdk-python 3.x's asyncio ``AuthClient``, beside nacos-async's.

The 3.x SDK needs gRPC for config and naming, so only its token handling competes: the refresh
storm (token TTL of a few seconds, many concurrent readers) and revocation (the secret rotated
under load). The worker runs in the SDK's own virtualenv (see ``_auth_client_worker.py``); logins
are counted by the dev server.

    python -m benchmarks.auth_client_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    PEER_3X,
    contender_python,
    control,
    dev_server_process,
    json_from_process,
    raise_fd_limit,
    rotating_secret,
    server_logins,
)
from benchmarks.token_bench import static_token

WORKER = Path(__file__).with_name("_auth_client_worker.py")


async def readers(python: Path, base: str, concurrency: int, seconds: float) -> dict[str, Any]:
    return await json_from_process(str(python), str(WORKER), base, str(concurrency), str(seconds))


async def storm(
    python: Path, base: str, concurrency: int, ttl: int, seconds: float
) -> dict[str, Any]:
    await control(base, "token-ttl", seconds=ttl)
    await server_logins(base, reset=True)
    counts = await readers(python, base, concurrency, seconds)
    logins = await server_logins(base)
    await control(base, "token-ttl", seconds=18000)
    lifetimes = 1 + seconds / ttl
    return {
        "concurrency": concurrency,
        "token_ttl": ttl,
        "logins": logins,
        "logins_per_lifetime": round(logins / lifetimes, 1),
        "forbidden_surfaced": counts["forbidden"],
        "other_errors": counts["errors"],
        "requests": counts["requests"],
        "cpu_s_per_1000": round(counts["cpu_seconds"] / max(1, counts["requests"]) * 1000, 3),
    }


async def revocation(
    python: Path, base: str, concurrency: int, seconds: float, every: float
) -> dict[str, Any]:
    await server_logins(base, reset=True)
    async with rotating_secret(base, every) as rotated:
        counts = await readers(python, base, concurrency, seconds)
    rotations = rotated[0]
    logins = await server_logins(base)
    return {
        "concurrency": concurrency,
        "rotations": rotations,
        "surfaced_errors": counts["forbidden"] + counts["errors"],
        "requests": counts["requests"],
        "logins_per_rotation": round(logins / max(1, rotations), 2),
        "replays_per_rotation": 0.0,  # the AuthClient never replays
    }


async def run(quick: bool) -> dict[str, Any]:
    raise_fd_limit(8192)
    python = await asyncio.to_thread(contender_python, "nacos-sdk-python-3", PEER_3X)
    concurrency, seconds, every = (100, 6.0, 2.0) if quick else (1000, 30.0, 10.0)
    async with dev_server_process("--flavor", "2.x", "--token-ttl", "18000") as (base, _):
        await static_token(base)
        # 3 s is the scenario's TTL; 15 s is one where the AuthClient's fixed 10 s margin fits.
        storms = [await storm(python, base, concurrency, ttl, seconds) for ttl in (3, 15)]
        revoked = await revocation(python, base, concurrency, seconds, every)
    return {"contender": PEER_3X + " AuthClient", "storm": storms, "revocation": revoked}


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-sdk-python 3.x AuthClient login scenarios")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.quick)), indent=2))


if __name__ == "__main__":
    main()
