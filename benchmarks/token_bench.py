"""Token benchmark: nacos-async against raw aiohttp with a static token, in one run.

N coroutines read a config through an authed endpoint of the dev server (in its own process,
token TTL of a few seconds) for many token lifetimes. Four contenders share the run in short
slices, their order rotating (``_compare``): raw aiohttp, ``client.request()``,
``client.config.get()`` and raw aiohttp again, the noise row. Reported: logins per token lifetime,
403s surfaced, throughput and client CPU per request as ratios to raw aiohttp (min/median/max
over repeats, against the targets), p99 latency around renewals over p99 steady, and under secret
rotation: surfaced errors, logins and replays per rotation.

    python -m benchmarks.token_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks._compare import (
    Comparison,
    Sample,
    Slice,
    Target,
    compare,
    cpu_per_op,
    rate,
    spread_text,
    target_text,
)
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
RAW, RAW_AGAIN = "raw aiohttp", "raw aiohttp again"
# The targets for nacos-async against raw aiohttp, at every concurrency.
THROUGHPUT_TARGET = Target(">=", 0.92)
CPU_TARGET = Target("<=", 1.10)


@dataclass
class Phase:
    """What one contender did in one timed phase."""

    requests: int = 0
    forbidden: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (start, latency)

    @property
    def sample(self) -> Sample:
        return Sample(self.requests, self.seconds, self.cpu)


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


@contextlib.asynccontextmanager
async def login_times(client: NacosClient, every: float = 0.005) -> AsyncIterator[list[float]]:
    """When the client logged in, seen by watching ``client.stats.logins``.

    An event hook would be exact, but with a hook installed every request builds an event: the
    contender would pay for the measurement. This watcher's small cost falls on every contender
    of the rotation alike.
    """
    times: list[float] = []

    async def watch() -> None:
        seen = client.stats.logins
        while True:
            await asyncio.sleep(every)
            if client.stats.logins != seen:
                seen = client.stats.logins
                times.append(time.perf_counter())

    watcher = asyncio.create_task(watch())
    try:
        yield times
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


def phase_slice(fetch: Fetch, concurrency: int, duration: float, phases: list[Phase]) -> Slice:
    """One contender's slice for ``compare``; keeps each phase's details in ``phases``."""

    async def run() -> Sample:
        phase = await run_phase(fetch, concurrency, duration)
        phases.append(phase)
        return phase.sample

    return run


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


def config_get_fetch(client: NacosClient) -> Fetch:
    async def fetch() -> int:
        try:
            await client.config.get(CONFIG["dataId"], group=CONFIG["group"])
        except NacosAuthError:
            return 403
        except NacosError:
            return 599
        return 200

    return fetch


def raw_session(concurrency: int) -> aiohttp.ClientSession:
    """A raw contender's own session, its pool sized like the client's."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    )


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
    base: str, concurrency: int, ttl: int, duration: float, rounds: int, repeats: int = 1
) -> dict[str, Any]:
    token = await static_token(base)
    await control(base, "token-ttl", seconds=ttl)
    client = NacosClient(base.removeprefix("http://"), username="nacos", password="nacos",
                         pool_size=concurrency, relogin_min_interval=0,
                         transport="http")  # fmt: skip  # HTTP against raw HTTP
    phases: dict[str, list[Phase]] = {RAW: [], "request": [], "config.get": [], RAW_AGAIN: []}
    async with client, raw_session(concurrency) as http, raw_session(concurrency) as http_again:
        fetches = {
            RAW: raw_fetch(http, base, token),
            "request": nacos_fetch(client),
            "config.get": config_get_fetch(client),
            RAW_AGAIN: raw_fetch(http_again, base, token),
        }
        async with login_times(client) as renewals:
            runs = await compare(
                {name: phase_slice(fetch, concurrency, duration, phases[name])
                 for name, fetch in fetches.items()},
                rounds, repeats,
            )  # fmt: skip
        stats = client.stats
    await control(base, "token-ttl", seconds=18000)
    ours = phases["request"] + phases["config.get"]
    elapsed = sum(p.seconds for name in phases for p in phases[name])
    # Each token is renewed a mean window (ttl/12) before expiry: one lifetime = ttl * 11/12.
    lifetimes = 1 + elapsed / (ttl * 11 / 12)
    return {
        "concurrency": concurrency,
        "token_ttl": ttl,
        "rounds": rounds,
        "repeats": repeats,
        "slice_seconds": duration,
        "lifetimes": round(lifetimes, 1),
        "logins": stats.logins,
        "logins_per_lifetime": round(stats.logins / lifetimes, 2),
        "forced_logins": stats.forced_logins,
        "replays": stats.replays,
        "forbidden_surfaced": sum(p.forbidden for p in ours),
        "other_errors": sum(p.errors for p in ours),
        "raw_errors": sum(p.forbidden + p.errors for p in phases[RAW] + phases[RAW_AGAIN]),
        "raw_rps": round(rate(runs.total(RAW))),
        "vs_raw": {
            "request": ratios_to_raw(runs, "request", targets=True),
            "config.get": ratios_to_raw(runs, "config.get", targets=True),
            "raw again (noise)": ratios_to_raw(runs, RAW_AGAIN, targets=False),
        },
        "p99_renewal_over_steady": _round(
            p99_ratio([s for p in phases["request"] for s in p.samples], renewals)
        ),
    }


def ratios_to_raw(runs: Comparison, name: str, targets: bool) -> dict[str, Any]:
    """Throughput and CPU per request of ``name`` over raw aiohttp's (min/median/max)."""
    speed, cpu = runs.ratio(name, RAW, rate), runs.ratio(name, RAW, cpu_per_op)
    row: dict[str, Any] = {"throughput": speed.as_dict(), "cpu_per_request": cpu.as_dict()}
    if targets:
        row["throughput_target"] = THROUGHPUT_TARGET.judge(speed)
        row["cpu_target"] = CPU_TARGET.judge(cpu)
    return row


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
    # Full: 4 contenders x 5 repeats x 2 rounds x 1.5 s = 60 s per level (15 s each, 20
    # token lifetimes of refresh storm).
    duration, rounds, repeats, ttl = (0.4, 2, 3, 3) if quick else (1.5, 2, 5, 3)
    async with dev_server_process("--flavor", "2.x", "--token-ttl", "18000") as (base, _):
        results = [await throughput(base, n, ttl, duration, rounds, repeats) for n in levels]
        revoked = await revocation(base, 1000, 4.0 if quick else 30.0, 1.5 if quick else 10.0)
    return {"environment": environment(), "throughput": results, "revocation": revoked}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| concurrency | logins / lifetime | forced logins | 403s surfaced | p99 at renewal / steady |",
        "|---|---|---|---|---|",
    ]
    for r in result["throughput"]:
        lines.append(
            f"| {r['concurrency']} | {r['logins_per_lifetime']} | {r['forced_logins']} | "
            f"{r['forbidden_surfaced']} | {r['p99_renewal_over_steady']} |"
        )
    lines += [
        "",
        "Ratios to raw aiohttp (static token): median (min-max) over repeats; the noise row is "
        "raw aiohttp against itself in the same rotation.",
        "",
        "| concurrency | contender | throughput vs raw | target | CPU/request vs raw | target |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["throughput"]:
        for name, row in r["vs_raw"].items():
            lines.append(
                f"| {r['concurrency']} | {name} | {spread_text(row['throughput'])} | "
                f"{target_text(row.get('throughput_target'))} | "
                f"{spread_text(row['cpu_per_request'])} | {target_text(row.get('cpu_target'))} |"
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
