"""What every benchmark shares: a dev server in its own process, and the machine's description.

The server runs apart from the client (``python -m nacos_async.testing``) so that the client
process's CPU time is the client's alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import venv
from collections.abc import AsyncIterator, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int | None = None) -> float | None:
    """Resident memory of ``pid`` (default: this process) in MiB (None where /proc is missing)."""
    status = Path(f"/proc/{pid or os.getpid()}/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def raise_fd_limit(wanted: int) -> int:
    """Lift the soft open-files limit (inherited by the server process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted)) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def pin(pid: int, core: int) -> None:
    """Keep process ``pid`` on one core (the ``core``-th this process may use), where the
    platform allows and there are two or more: processes compared side by side then share
    one core's conditions instead of migrating between cores at random."""
    if not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) >= 2:
        with contextlib.suppress(OSError):  # gone already, or a cpuset that refuses: unpinned
            os.sched_setaffinity(pid, {cores[core % len(cores)]})


async def wait_until_up(base: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            if proc.returncode is not None:
                raise RuntimeError("the dev server exited")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{base}/nacos/v1/ns/operator/metrics") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError("the dev server did not start")


@contextlib.asynccontextmanager
async def dev_server_process(*options: str) -> AsyncIterator[tuple[str, int]]:
    """Run ``python -m nacos_async.testing`` on a free port; yields (base URL, pid)."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nacos_async.testing", "--port", str(port), "--quiet", *options
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base, proc)
        yield base, proc.pid
    finally:
        proc.terminate()
        await proc.wait()


async def control(base: str, action: str, **params: Any) -> None:
    """Call a dev-server fault switch (``/__dev__/<action>``)."""
    async with aiohttp.ClientSession() as http:
        query = {k: str(v) for k, v in params.items()}
        async with http.post(f"{base}/__dev__/{action}", params=query) as resp:
            resp.raise_for_status()


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


# Shared by every checkout on the machine (and CI runs), hence the lock in contender_python.
VENVS = Path(os.environ.get("NACOS_ASYNC_BENCH_VENVS") or _cache_home() / "nacos-async" / "venvs")
PEER_2X = "nacos-sdk-python==2.0.11"
PEER_3X = "nacos-sdk-python==3.2.0"
_READY = "contender.json"  # the marker, written last: its recipe says what the venv holds


def contender_python(name: str, *requirements: str) -> Path:
    """The interpreter of a cached virtualenv holding ``requirements`` (made on first use).

    Contenders that cannot share our environment (nacos-sdk-python 3.x and its 60 packages) run
    there, in their own process. Safe to share: a file lock per virtualenv lets one process build
    while the others wait, the build happens in a temporary directory that is renamed into place
    once its marker is written, and a virtualenv without a matching marker (left by a crash, or
    made for other requirements or another Python) is built again.
    """
    home = VENVS / name
    recipe = json.dumps({"requirements": list(requirements), "python": sys.version})
    VENVS.mkdir(parents=True, exist_ok=True)
    with _exclusive(VENVS / f".{name}.lock", f"the {name} virtualenv"):
        marker = home / _READY
        if not (marker.is_file() and marker.read_text() == recipe):
            for stale in VENVS.glob(f".{name}.build-*"):  # a build that crashed
                shutil.rmtree(stale, ignore_errors=True)
            building = Path(tempfile.mkdtemp(prefix=f".{name}.build-", dir=VENVS))
            building.chmod(0o755)  # mkdtemp's 0700 would make the venv private
            try:
                build_venv(building, *requirements)
                _repoint_scripts(building, home)
                (building / _READY).write_text(recipe)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            shutil.rmtree(home, ignore_errors=True)
            building.rename(home)
    return home / "bin" / "python"


def build_venv(home: Path, *requirements: str) -> Path:
    """Make a virtualenv at ``home`` holding ``requirements``; returns its interpreter.

    This interpreter's pip installs into it (``pip --python``), so the virtualenv holds only what
    a contender needs: no pip, no setuptools.
    """
    venv.create(home, symlinks=True)
    python = home / "bin" / "python"
    if requirements:
        pip("--python", str(python), "install", *requirements)
    return python


def pip(*arguments: str) -> None:
    """Run this interpreter's pip quietly; on failure, raise with the end of what it said."""
    run = subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *arguments],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        said = run.stderr[-2000:]
        raise RuntimeError(f"pip {' '.join(arguments)[:300]} failed:\n{said}")


def _repoint_scripts(built: Path, home: Path) -> None:
    """Scripts name their interpreter by absolute path: make them name ``home``'s."""
    for script in (built / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            if bytes(built) in text:
                script.write_bytes(text.replace(bytes(built), bytes(home)))


@contextlib.contextmanager
def _exclusive(lock_path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (released if the process dies)."""
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another process to finish {what}", file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def json_from_process(*command: str) -> dict[str, Any]:
    """Run a helper process and return the JSON it prints (a contender or an isolated probe)."""
    proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)[:200]} exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result


@contextlib.asynccontextmanager
async def rotating_secret(base: str, every: float) -> AsyncIterator[list[int]]:
    """Rotate the dev server's secret every ``every`` seconds; yields ``[rotations so far]``."""
    rotations = [0]

    async def rotate() -> None:
        while True:
            await asyncio.sleep(every)
            await control(base, "rotate-secret")
            rotations[0] += 1

    rotator = asyncio.create_task(rotate())
    try:
        yield rotations
    finally:
        rotator.cancel()
        await asyncio.gather(rotator, return_exceptions=True)


async def server_logins(base: str, reset: bool = False) -> int:
    """Logins the dev server has served (all paths) since the last reset; optionally reset."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/__dev__/stats") as resp:
            stats = (await resp.json())["result"]
        if reset:
            async with http.post(f"{base}/__dev__/reset-stats") as resp:
                resp.raise_for_status()
    return sum(stats["logins"].values())


def environment() -> dict[str, Any]:
    """CPU, Python and package versions, recorded next to every result."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for name in ("nacos-async", "aiohttp", "anyio", "pydantic", "nacos-sdk-python"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
