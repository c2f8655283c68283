"""The token benchmark runs end to end (tiny), and its correctness figures hold."""

from __future__ import annotations

from benchmarks._harness import dev_server_process
from benchmarks.token_bench import revocation, throughput


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
