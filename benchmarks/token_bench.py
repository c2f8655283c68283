"""Token benchmark: nacos-async against raw aiohttp with a static token, in one run.

N coroutines read a config through an authed endpoint of the dev server (in its own process,
token TTL of a few seconds) for many token lifetimes. Contenders alternate phase by phase to
cancel drift. Reported: logins per token lifetime, 403s surfaced, throughput and client CPU per
request as ratios to raw aiohttp, p99 latency around renewals over p99 steady, and under secret
rotation: surfaced errors, logins and replays per rotation.

    python -m benchmarks.token_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks._harness import (
    control,
    dev_server_process,
    environment,
    percentile,
    raise_fd_limit,
    rotating_secret,
)
from nacos_async import NacosAuthError, NacosClient, NacosError

CONFIG = {"dataId": "bench.yaml", "group": "DEFAULT_GROUP"}
Fetch = Callable[[], Awaitable[int]]


@dataclass
class Phase:
    """What one contender did in one timed phase."""

    requests: int = 0
    forbidden: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (start, latency)


async def run_phase(fetch: Fetch, concurrency: int, duration: float) -> Phase:
    phase = Phase()
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status = await fetch()
            phase.samples.append((start, time.perf_counter() - start))
            if status == 200:
                phase.requests += 1
            elif status == 403:
                phase.forbidden += 1
            else:
                phase.errors += 1

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.cpu, phase.seconds = time.process_time() - cpu0, time.perf_counter() - wall0
    return phase


def nacos_fetch(client: NacosClient) -> Fetch:
    async def fetch() -> int:
        try:
            await client.request("GET", "/v1/cs/configs", params=CONFIG)
        except NacosAuthError:
            return 403
        except NacosError:
            return 599
        return 200

    return fetch


def raw_fetch(http: aiohttp.ClientSession, base: str, token: str) -> Fetch:
    url = f"{base}/nacos/v1/cs/configs"
    headers = {"Authorization": f"Bearer {token}"}

    async def fetch() -> int:
        try:
            async with http.get(url, params=CONFIG, headers=headers) as resp:
                await resp.read()
                return resp.status
        except aiohttp.ClientError:
            return 599

    return fetch


async def static_token(base: str) -> str:
    """A token that outlives the run (the server's TTL is long while it is issued)."""
    async with aiohttp.ClientSession() as http:
        form = {"username": "nacos", "password": "nacos"}
        async with http.post(f"{base}/nacos/v1/auth/users/login", data=form) as resp:
            token: str = (await resp.json())["accessToken"]
        async with http.post(
            f"{base}/nacos/v1/cs/configs",
            data=CONFIG | {"content": "key: value\n" * 20},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            resp.raise_for_status()
    return token


def p99_ratio(samples: list[tuple[float, float]], renewals: list[float]) -> float | None:
    """p99 of requests started around a renewal (-0.1 s, +0.3 s) over p99 of the others."""
    near = [lat for start, lat in samples if any(-0.1 <= start - t <= 0.3 for t in renewals)]
    far = [lat for start, lat in samples if not any(-0.1 <= start - t <= 0.3 for t in renewals)]
    if len(near) < 20 or len(far) < 20:
        return None
    return percentile(near, 0.99) / percentile(far, 0.99)


async def throughput(
    base: str, concurrency: int, ttl: int, duration: float, rounds: int
) -> dict[str, Any]:
    token = await static_token(base)
    await control(base, "token-ttl", seconds=ttl)
    renewals: list[float] = []
    client = NacosClient(base.removeprefix("http://"), username="nacos", password="nacos",
                         pool_size=concurrency, relogin_min_interval=0)  # fmt: skip
    client.add_event_hook(
        lambda e: renewals.append(time.perf_counter()) if e.kind == "login" else None
    )
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    raw_phases: list[Phase] = []
    ours: list[Phase] = []
    async with client, aiohttp.ClientSession(connector=connector) as http:
        for _ in range(rounds):
            raw_phases.append(await run_phase(raw_fetch(http, base, token), concurrency, duration))
            ours.append(await run_phase(nacos_fetch(client), concurrency, duration))
        stats = client.stats
    await control(base, "token-ttl", seconds=18000)
    raw_rps = sum(p.requests for p in raw_phases) / sum(p.seconds for p in raw_phases)
    our_rps = sum(p.requests for p in ours) / sum(p.seconds for p in ours)
    raw_cpu = sum(p.cpu for p in raw_phases) / max(1, sum(p.requests for p in raw_phases))
    our_cpu = sum(p.cpu for p in ours) / max(1, sum(p.requests for p in ours))
    elapsed = sum(p.seconds for p in ours) + sum(p.seconds for p in raw_phases)
    # Each token is renewed a mean window (ttl/12) before expiry: one lifetime = ttl * 11/12.
    lifetimes = 1 + elapsed / (ttl * 11 / 12)
    return {
        "concurrency": concurrency,
        "token_ttl": ttl,
        "lifetimes": round(lifetimes, 1),
        "logins": stats.logins,
        "logins_per_lifetime": round(stats.logins / lifetimes, 2),
        "forced_logins": stats.forced_logins,
        "replays": stats.replays,
        "forbidden_surfaced": sum(p.forbidden for p in ours),
        "other_errors": sum(p.errors for p in ours),
        "raw_rps": round(raw_rps),
        "nacos_async_rps": round(our_rps),
        "throughput_ratio": round(our_rps / raw_rps, 3),
        "cpu_per_request_ratio": round(our_cpu / raw_cpu, 3),
        "p99_renewal_over_steady": _round(
            p99_ratio([s for p in ours for s in p.samples], renewals)
        ),
    }


async def revocation(base: str, concurrency: int, duration: float, every: float) -> dict[str, Any]:
    client = NacosClient(base.removeprefix("http://"), username="nacos", password="nacos",
                         pool_size=concurrency, relogin_min_interval=0)  # fmt: skip
    async with client:
        async with rotating_secret(base, every) as rotated:
            phase = await run_phase(nacos_fetch(client), concurrency, duration)
        rotations = rotated[0]
        stats = client.stats
    return {
        "concurrency": concurrency,
        "rotations": rotations,
        "surfaced_errors": phase.forbidden + phase.errors,
        "requests": phase.requests,
        "forced_logins_per_rotation": round(stats.forced_logins / max(1, rotations), 2),
        "replays_per_rotation": round(stats.replays / max(1, rotations), 1),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def run(quick: bool) -> dict[str, Any]:
    raise_fd_limit(8192)
    levels = [1, 10, 100, 1000]
    # Full: 30 s per contender and level (60 s of refresh storm at each), alternating every 6 s.
    duration, rounds, ttl = (2.0, 2, 2) if quick else (6.0, 5, 3)
    async with dev_server_process("--flavor", "2.x", "--token-ttl", "18000") as (base, _):
        results = [await throughput(base, n, ttl, duration, rounds) for n in levels]
        revoked = await revocation(base, 1000, 6.0 if quick else 30.0, 2.0 if quick else 10.0)
    return {"environment": environment(), "throughput": results, "revocation": revoked}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| concurrency | logins / lifetime | forced logins | 403s surfaced | throughput vs raw | CPU/request vs raw | p99 at renewal / steady |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["throughput"]:
        lines.append(
            f"| {r['concurrency']} | {r['logins_per_lifetime']} | {r['forced_logins']} | "
            f"{r['forbidden_surfaced']} | {r['throughput_ratio']} | {r['cpu_per_request_ratio']} | "
            f"{r['p99_renewal_over_steady']} |"
        )
    v = result["revocation"]
    lines += [
        "",
        "| rotation scenario | rotations | surfaced errors | forced logins / rotation | replays / rotation |",
        "|---|---|---|---|---|",
        f"| {v['concurrency']} readers | {v['rotations']} | {v['surfaced_errors']} | "
        f"{v['forced_logins_per_rotation']} | {v['replays_per_rotation']} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="nacos-async token benchmark")
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args.quick))
    print(markdown(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
