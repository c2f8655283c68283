"""Start-up and footprint: packages installed, installed size and import time of every contender.

Every contender lives alone in a virtualenv, installed by pip as a user would get it: a regular
(not editable) install whose bytecode pip compiled, so nobody pays for an editable-install finder
or for compiling. nacos-async core, and nacos-async with ``[grpc]``, are installed from a copy
of this source tree into throwaway
virtualenvs, with the aiohttp, anyio and pydantic versions of this environment; aiohttp alone
(the floor), nacos-sdk-python 2.0.11 and 3.2.0 (each with all it declares) come from cached ones
(``contender_python``). Import time is measured inside a fresh interpreter (``python -I``: the
working directory's sources are not importable), contenders alternating after one untimed
warm-up import each (``_compare``); min/median/max over repeats, and the ratio to aiohttp against
the target. Package counts follow ``Requires-Dist`` from the root.

    python -m benchmarks.footprint [--no-3x]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks._compare import (
    Sample,
    Slice,
    Target,
    compare,
    seconds_per_op,
    spread_text,
    target_text,
)
from benchmarks._harness import (
    PEER_2X,
    PEER_3X,
    build_venv,
    contender_python,
    json_from_process,
    pip,
)

ROOT = Path(__file__).resolve().parent.parent
IMPORT_TARGET = Target("<=", 1.25)  # import time against aiohttp alone
# What a ``[grpc]`` user imports: the client, and the gRPC config transport it loads at start.
GRPC_MODULES = ("nacos_async", "nacos_async.grpc.config")
FLOOR = "aiohttp"
_TIMED_IMPORT = (
    "import time; t = time.perf_counter(); import {}; s = time.perf_counter() - t; "
    "import json; print(json.dumps({{'seconds': s}}))"
)
_SITE = "import json, sysconfig; print(json.dumps({'site': sysconfig.get_path('purelib')}))"
_NAME_END = re.compile(r"[\s<>=!~\[(;]")


@dataclass(frozen=True)
class Contender:
    label: str
    distribution: str
    modules: tuple[str, ...]
    make: Callable[[], Path]  # builds (or reuses) its virtualenv; returns the interpreter
    extra: str = ""
    also: tuple[str, ...] = ()  # distributions installed beside it and counted with it


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_holds(marker: str, extra: str) -> bool:
    """Evaluate an environment marker; keep the requirement when no evaluator is at hand."""
    for module in ("packaging.markers", "pip._vendor.packaging.markers"):
        try:
            markers = importlib.import_module(module)
        except ImportError:
            continue
        return bool(markers.Marker(marker).evaluate({"extra": extra}))
    return True


def closure(
    site: Path, root: str, extra: str = "", also: tuple[str, ...] = ()
) -> list[metadata.Distribution]:
    """The distributions installed in ``site`` that ``root`` (with ``extra``) and ``also`` pull in."""
    installed = {
        _normalize(d.metadata["Name"]): d for d in metadata.distributions(path=[str(site)])
    }
    seen: dict[str, metadata.Distribution] = {}
    pending = [(_normalize(root), extra)] + [(_normalize(name), "") for name in also]
    while pending:
        name, wanted_extra = pending.pop()
        if name in seen or name not in installed:
            continue  # not installed: an optional requirement this platform skips
        seen[name] = dist = installed[name]
        for requirement in dist.requires or []:
            spec, _, marker = requirement.partition(";")
            if not marker.strip() or _marker_holds(marker.strip(), wanted_extra):
                pending.append((_normalize(_NAME_END.split(spec.strip(), maxsplit=1)[0]), ""))
    return list(seen.values())


def installed_bytes(dist: metadata.Distribution) -> int:
    paths = (Path(str(dist.locate_file(file))) for file in dist.files or [])
    return sum(path.stat().st_size for path in paths if path.is_file())


def import_slice(python: Path, modules: tuple[str, ...]) -> Slice:
    """One timed import of ``modules`` in a fresh interpreter."""

    async def run() -> Sample:
        code = _TIMED_IMPORT.format(", ".join(modules))
        seconds = (await json_from_process(str(python), "-I", "-c", code))["seconds"]
        return Sample(1, seconds, seconds)

    return run


async def describe(contender: Contender, python: Path) -> dict[str, Any]:
    """Version, packages pulled in and their installed size."""
    site = Path((await json_from_process(str(python), "-I", "-c", _SITE))["site"])
    dists = closure(site, contender.distribution, contender.extra, contender.also)
    root = _normalize(contender.distribution)
    version = next(d.version for d in dists if _normalize(d.metadata["Name"]) == root)
    return {
        "contender": contender.label,
        "distribution": contender.distribution,
        "version": version,
        "modules": list(contender.modules),
        "packages": len(dists),
        "installed_mib": round(sum(installed_bytes(d) for d in dists) / 2**20, 1),
    }


def _wheel(workdir: Path) -> Path:
    """A wheel of this source tree, built once from a copy (building in place would litter it)."""
    source = workdir / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "nacos_async", source / "nacos_async",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    pip("wheel", "--no-deps", "--wheel-dir", str(workdir / "wheel"), str(source))
    return next((workdir / "wheel").glob("nacos_async-*.whl"))


def _pin(name: str) -> str:
    """``name`` at this environment's version, if installed here."""
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return name


def _pins() -> list[str]:
    """This environment's versions of nacos-async's dependencies, so that all match the floor."""
    return [_pin(name) for name in ("aiohttp", "anyio", "pydantic")]


def contenders(workdir: Path, wheel: Path, with_3x: bool) -> list[Contender]:
    """Every contender, its virtualenv not built yet (nacos-async's from ``wheel``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    found = [
        Contender(FLOOR, "aiohttp", ("aiohttp",), partial(contender_python, "aiohttp", pins[0])),
        Contender("nacos-async", "nacos-async", ("nacos_async",),
                  partial(build_venv, workdir / "core", str(wheel), *pins)),
    ]  # fmt: skip
    assert "grpc" in project.get("optional-dependencies", {}), "the [grpc] extra is gone"
    found.append(Contender("nacos-async[grpc]", "nacos-async", GRPC_MODULES,
                           partial(build_venv, workdir / "grpc", f"{wheel}[grpc]", *pins),
                           extra="grpc"))  # fmt: skip
    found.append(Contender("nacos-sdk-python 2.0.11", "nacos-sdk-python", ("nacos",),
                           partial(contender_python, "nacos-sdk-python-2", PEER_2X)))  # fmt: skip
    if with_3x:
        found.append(Contender("nacos-sdk-python 3.2.0", "nacos-sdk-python", ("v2.nacos",),
                               partial(contender_python, "nacos-sdk-python-3", PEER_3X)))  # fmt: skip
    return found


async def run(with_3x: bool = True, repeats: int = 5) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nacos-async-footprint-") as tmp:
        wheel = await asyncio.to_thread(_wheel, Path(tmp))
        found = contenders(Path(tmp), wheel, with_3x)
        pythons = await asyncio.gather(*(asyncio.to_thread(c.make) for c in found))
        runs = await compare(
            {
                c.label: import_slice(python, c.modules)
                for c, python in zip(found, pythons, strict=True)
            },
            rounds=1,
            repeats=repeats,
        )
        rows = []
        for contender, python in zip(found, pythons, strict=True):
            row = await describe(contender, python)
            row["import_ms"] = runs.spread(contender.label, seconds_per_op).scaled(1000).as_dict(1)
            ratio = runs.ratio(contender.label, FLOOR, seconds_per_op)
            row["import_vs_aiohttp"] = ratio.as_dict(2)
            if contender.distribution == "nacos-async":
                row["target"] = IMPORT_TARGET.judge(ratio)
            rows.append(row)
    return {"repeats": repeats, "python": sys.version.split()[0], "footprint": rows}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| client | packages | installed size | import time, ms | import vs aiohttp | target |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["footprint"]:
        name = row["contender"]
        name += "" if row["version"] in name else f" {row['version']}"
        lines.append(
            f"| {name} | {row['packages']} | "
            f"{row['installed_mib']} MiB | {spread_text(row['import_ms'])} | "
            f"{spread_text(row['import_vs_aiohttp'])} | {target_text(row.get('target'))} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="start-up and footprint")
    parser.add_argument("--no-3x", action="store_true", help="skip nacos-sdk-python 3.x")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(markdown(asyncio.run(run(not args.no_3x, args.repeats))))


if __name__ == "__main__":
    main()
