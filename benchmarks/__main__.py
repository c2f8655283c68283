"""Run every benchmark in one go and save the figures.

    python -m benchmarks [--quick] [--out benchmarks/results]

Writes ``results.json`` and ``results.md`` (the tables) under ``--out``; each scenario starts
the dev server in its own process. Not part of CI (a tiny token run is, as a smoke test).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

from benchmarks import config_bench, naming_bench, token_bench
from benchmarks._harness import environment


async def run_all(quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {"environment": environment()}
    results["token"] = await token_bench.run(quick)
    results["config"] = await config_bench.run(quick)
    results["naming"] = await naming_bench.run(quick)
    if importlib.util.find_spec("nacos") is not None:
        from benchmarks import peer_bench

        results["peer"] = await peer_bench.run(quick)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="all nacos-async benchmarks")
    parser.add_argument("--quick", action="store_true", help="a few minutes instead of ~10")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    results = asyncio.run(run_all(args.quick))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    tables = [token_bench.markdown(results["token"]), "", "```json",
              json.dumps({k: v for k, v in results.items() if k in ("config", "naming", "peer")},
                         indent=2), "```"]  # fmt: skip
    (out / "results.md").write_text("\n".join(tables) + "\n")
    print("\n".join(tables))


if __name__ == "__main__":
    main()
