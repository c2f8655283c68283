"""One distribution's footprint, measured inside the interpreter that has it installed.

    python _footprint_probe.py <distribution> <module> [repeats]

Standard library only, so that it runs in any virtualenv. Prints JSON: the packages the
distribution pulls in (itself included; its ``Requires-Dist`` closure without extras), their
installed size in MiB, and the median time to import ``module`` in a fresh interpreter minus the
interpreter's own start-up.
"""

from __future__ import annotations

import importlib
import json
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

_NAME_END = re.compile(r"[\s<>=!~\[(;]")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_holds(marker: str) -> bool:
    """Evaluate an environment marker; keep the requirement when no evaluator is at hand."""
    for module in ("packaging.markers", "pip._vendor.packaging.markers"):
        try:
            markers = importlib.import_module(module)
        except ImportError:
            continue
        return bool(markers.Marker(marker).evaluate({"extra": ""}))
    return True


def requirements(dist: metadata.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or []:
        spec, _, marker = requirement.partition(";")
        if marker.strip() and not _marker_holds(marker.strip()):
            continue
        names.append(_normalize(_NAME_END.split(spec.strip(), maxsplit=1)[0]))
    return names


def closure(root: str) -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    pending = [_normalize(root)]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement this platform does not install
        seen[name] = dist
        pending.extend(requirements(dist))
    return list(seen.values())


def installed_bytes(dist: metadata.Distribution, module: str | None) -> int:
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    editable = dist.read_text("direct_url.json") or ""
    if module and '"editable": true' in editable.replace("\n", " "):
        # An editable install records only its metadata: size the source package instead.
        spec = __import__(module.split(".")[0])
        package_dir = Path(spec.__file__ or "").parent
        total += sum(p.stat().st_size for p in package_dir.rglob("*.py"))
    return total


def import_seconds(module: str, repeats: int = 5) -> float:
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    run(f"import {module}")  # compile the bytecode once
    baseline = statistics.median(run("pass") for _ in range(repeats))
    loaded = statistics.median(run(f"import {module}") for _ in range(repeats))
    return max(0.0, loaded - baseline)


def probe(distribution: str, module: str, repeats: int = 5) -> dict[str, Any]:
    dists = closure(distribution)
    root = _normalize(distribution)
    size = sum(
        installed_bytes(d, module if _normalize(d.metadata["Name"]) == root else None)
        for d in dists
    )
    return {
        "distribution": distribution,
        "version": metadata.version(distribution),
        "packages": len(dists),
        "installed_mib": round(size / 2**20, 1),
        "import_ms": round(import_seconds(module, repeats) * 1000),
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    print(json.dumps(probe(sys.argv[1], sys.argv[2], repeats)))
