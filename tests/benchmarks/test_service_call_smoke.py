"""The service-call benchmark runs end to end (tiny) and reports; no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks import service_call_bench


async def test_service_call_benchmark_smoke() -> None:
    results = await service_call_bench.run(quick=True, calls=40, rounds=1, levels=(1, 4))
    rows = results["service_calls"]
    assert [r["concurrency"] for r in rows] == [1, 4]
    for r in rows:
        assert r["calls_per_phase"] == 40
        assert r["plain_us_per_call"] > 0 and r["by_name_us_per_call"] > 0
        assert r["plain_cpu_us_per_call"] > 0 and r["cpu_ratio"] > 0
    table = service_call_bench.markdown(results)
    assert table.count("\n") == 3 and "| 4 |" in table


def test_the_command_prints_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.service_call_bench", "--calls", "20", "--rounds", "1"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = json.loads(done.stdout)["service_calls"]
    assert [(r["concurrency"], r["calls_per_phase"]) for r in rows] == [(1, 20), (10, 20), (50, 50)]
