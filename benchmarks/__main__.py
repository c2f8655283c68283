"""Run every benchmark scenario, for every contender, in one go and save the figures.

    python -m benchmarks [--quick] [--out DIR]

Writes ``results.json``, ``results.md`` (the tables) and ``chart.png`` under ``--out``
(default ``benchmarks/results/full``, or ``.../quick``). Each scenario starts the dev server in
its own process. Contenders alternate in short slices and every ratio is min/median/max over
repeats, beside a raw-against-raw noise row (``_compare``). nacos-sdk-python 2.0.11 and 3.x and
aiohttp alone run from cached virtualenvs under ``~/.cache/nacos-async/venvs`` (made on first
use, which needs the package index; safe when two runs start at once). Not part of CI: the test
suite runs a tiny version of every scenario as a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

from benchmarks import (
    auth_client_bench,
    config_bench,
    footprint,
    grpc_bench,
    naming_bench,
    report,
    service_call_bench,
    token_bench,
)
from benchmarks._harness import environment


async def run_all(quick: bool, with_3x: bool) -> dict[str, Any]:
    results: dict[str, Any] = {"environment": environment(), "quick": quick}
    results["token"] = await token_bench.run(quick)
    if importlib.util.find_spec("nacos") is not None:
        from benchmarks import peer_bench

        results["peer"] = await peer_bench.run(quick)
    if with_3x:
        results["auth_client"] = await auth_client_bench.run(quick)
    results["config"] = await config_bench.run(quick)
    results["grpc"] = await grpc_bench.run(quick, with_3x)
    results["naming"] = await naming_bench.run(quick, with_3x)
    results["service_call"] = await service_call_bench.run(quick)
    results["footprint"] = await footprint.run(with_3x, repeats=5 if quick else 15)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="all nacos-async benchmarks")
    parser.add_argument("--quick", action="store_true", help="about 3 minutes instead of ~15")
    parser.add_argument("--out", help="where to write (default benchmarks/results/full|quick)")
    parser.add_argument("--no-3x", action="store_true",
                        help="skip nacos-sdk-python 3.x (its virtualenv needs the package index)")  # fmt: skip
    args = parser.parse_args()
    out = Path(args.out or f"benchmarks/results/{'quick' if args.quick else 'full'}")
    results = asyncio.run(run_all(args.quick, not args.no_3x))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    tables = report.markdown(results)
    (out / "results.md").write_text(tables)
    print(tables)
    if report.chart(results, out / "chart.png"):
        print(f"chart: {out / 'chart.png'}")
    else:
        print("chart skipped: pip install '.[bench]' for matplotlib")


if __name__ == "__main__":
    main()
