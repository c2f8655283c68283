"""Every benchmark scenario runs end to end (tiny), its correctness figures hold, and it reports.

Timing targets are reported by ``python -m benchmarks``, never asserted here. The
nacos-sdk-python 3.x contender runs from its cached virtualenv, made on first use.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from benchmarks import auth_client_bench, config_bench, footprint, naming_bench, report
from benchmarks._harness import PEER_3X, contender_python, dev_server_process, environment
from benchmarks.peer_bench import peer_phase
from benchmarks.token_bench import revocation, static_token, throughput


async def test_token_benchmark_smoke() -> None:
    async with dev_server_process("--flavor", "2.x") as (base, _):
        result = await throughput(base, concurrency=20, ttl=1, duration=1.2, rounds=1)
        rotated = await revocation(base, concurrency=50, duration=1.5, every=0.5)
    assert result["forbidden_surfaced"] == 0 and result["other_errors"] == 0
    assert result["forced_logins"] == 0
    assert 0.5 <= result["logins_per_lifetime"] <= 1.5, result
    assert result["throughput_ratio"] > 0 and result["cpu_per_request_ratio"] > 0
    assert rotated["surfaced_errors"] == 0
    assert rotated["rotations"] >= 2 and rotated["forced_logins_per_rotation"] == 1.0


# nacos-sdk-python 2.0.11 builds ``ssl.SSLContext()`` without a protocol on every login.
@pytest.mark.filterwarnings("ignore:ssl.SSLContext\\(\\) without protocol:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning")
async def test_every_other_scenario_runs_and_is_reported(tmp_path: Path) -> None:
    results: dict[str, Any] = {"environment": environment()}
    async with dev_server_process("--flavor", "2.x") as (base, _):
        results["token"] = {
            "throughput": [await throughput(base, concurrency=5, ttl=1, duration=0.6, rounds=1)],
            "revocation": await revocation(base, concurrency=5, duration=1.2, every=0.5),
        }
        peer = await asyncio.to_thread(peer_phase, base.removeprefix("http://"), 4, 0.5)
        heartbeat = await naming_bench.heartbeats(base, 20, seconds=0.6, settle=0.2, beat_ms=200)
    assert peer["rps"] > 0 and peer["errors"] == 0
    results["peer"] = {"read_throughput": [{
        "concurrency": 4, "nacos_async_rps": 1, "nacos_sdk_python_rps": round(peer["rps"]),
        "throughput_ratio": 1.0, "nacos_async_cpu_s_per_1000": 0.1,
        "nacos_sdk_python_cpu_s_per_1000": round(peer["cpu_per_1000"], 3),
    }]}  # fmt: skip
    assert heartbeat["beats"] > 0 and heartbeat["list_p50_ms"] > 0
    results["naming"] = {"heartbeats": heartbeat}

    async with dev_server_process("--flavor", "3.1") as (base, _):
        latency = await config_bench.latency(base, rounds=3)
        memory = await config_bench.watched_memory_isolated(base, keys=50)
    async with dev_server_process("--flavor", "3.2") as (base, _):
        polling = await config_bench.md5_poll_cost(base, keys=20, seconds=1.0)
    assert 0 < latency["p50_ms"] <= latency["p99_ms"]
    assert memory["keys"] == 50 and polling["server_reads_per_second"] > 0
    results["config"] = {"latency": latency, "memory": memory, "md5_polling": polling}

    python = await asyncio.to_thread(contender_python, "nacos-sdk-python-3", PEER_3X)
    async with dev_server_process("--flavor", "2.x") as (base, _):
        await static_token(base)
        storm = await auth_client_bench.storm(python, base, concurrency=5, ttl=3, seconds=1.0)
        rotated = await auth_client_bench.revocation(python, base, 5, seconds=1.5, every=0.6)
    # The measurement shows what it claims: a 3 s TTL is inside the AuthClient's fixed 10 s
    # margin, so it logs in for every request; after a rotation it surfaces 403s.
    assert storm["requests"] > 0 and storm["logins"] >= storm["requests"]
    assert rotated["rotations"] >= 1 and rotated["surfaced_errors"] > 0
    results["auth_client"] = {"contender": PEER_3X, "storm": [storm], "revocation": rotated}

    results["footprint"] = await asyncio.to_thread(footprint.run, True, 1)
    ours, theirs = results["footprint"]["footprint"]
    assert ours["distribution"] == "nacos-async" and theirs["distribution"] == "nacos-sdk-python"
    assert 5 <= ours["packages"] < theirs["packages"]
    assert ours["installed_mib"] > 0 and ours["import_ms"] > 0

    tables = report.markdown(results)
    for heading in ("Read throughput", "nacos-sdk-python 2.0.11", "AuthClient", "Config",
                    "Naming", "footprint"):  # fmt: skip
        assert heading in tables
    chart = tmp_path / "chart.png"
    if report.chart(results, chart):
        assert chart.read_bytes().startswith(b"\x89PNG")
    else:
        with pytest.raises(ImportError):
            import matplotlib  # noqa: F401
