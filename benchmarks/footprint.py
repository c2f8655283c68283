"""Start-up and footprint: import time, installed size with dependencies, number of packages.

nacos-async is probed in this interpreter; nacos-sdk-python 3.x (the official asyncio SDK) in its
own cached virtualenv, made with ``pip install nacos-sdk-python==3.2.0`` on first use.

    python -m benchmarks.footprint [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks._harness import PEER_3X, contender_python

PROBE = Path(__file__).with_name("_footprint_probe.py")


def probe(python: Path | str, distribution: str, module: str, repeats: int = 5) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), str(PROBE), distribution, module, str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def run(with_peer: bool = True, repeats: int = 5) -> dict[str, Any]:
    rows = [probe(sys.executable, "nacos-async", "nacos_async", repeats)]
    if with_peer:
        peer = contender_python("nacos-sdk-python-3", PEER_3X)
        rows.append(probe(peer, "nacos-sdk-python", "v2.nacos", repeats))
    return {"footprint": rows}


def markdown(result: dict[str, Any]) -> str:
    lines = ["| client | packages installed | installed size | import time |", "|---|---|---|---|"]
    for row in result["footprint"]:
        lines.append(
            f"| {row['distribution']} {row['version']} | {row['packages']} | "
            f"{row['installed_mib']} MiB | {row['import_ms']} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="start-up and footprint")
    parser.add_argument("--no-peer", action="store_true", help="skip nacos-sdk-python 3.x")
    args = parser.parse_args()
    print(markdown(run(not args.no_peer)))


if __name__ == "__main__":
    main()
