"""Config reads over gRPC, over HTTP, and by nacos-sdk-python 3.2.0's asyncio gRPC client.

All read the same config from the dev server (Nacos 3.2 flavor, auth on, in its own process) at
the same concurrency, in short slices whose order rotates (``_compare``): nacos-async's
``config.get`` over gRPC and over HTTP, the official asyncio client (``NacosConfigService``,
grpcio, from its own virtualenv and process, driven over a pipe: ``_grpc_config_worker.py``),
and nacos-async over HTTP again (the noise row). Reported: reads per second, client CPU per read
(each contender's own process), and the ratios to nacos-async over HTTP (min/median/max over
repeats).

    python -m benchmarks.grpc_bench [--quick] [--no-3x]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from benchmarks._compare import Sample, Slice, compare, cpu_per_op, rate, spread_text
from benchmarks._harness import (
    PEER_3X,
    contender_python,
    dev_server_process,
    environment,
    raise_fd_limit,
)
from benchmarks.token_bench import CONFIG, Phase, config_get_fetch, phase_slice
from nacos_async import NacosClient

GRPC, HTTP, HTTP_AGAIN = "nacos-async gRPC", "nacos-async HTTP", "nacos-async HTTP again"
SDK = "nacos-sdk-python 3.2.0 (gRPC)"
WORKER = Path(__file__).with_name("_grpc_config_worker.py")


class SdkReaders:
    """The official client in its own process; one ``run`` command per slice."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self.errors = 0

    async def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write((json.dumps(command) + "\n").encode())
        await self._proc.stdin.drain()
        line = await self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the nacos-sdk-python 3.x worker exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def slice(self, concurrency: int, seconds: float) -> Slice:
        async def run() -> Sample:
            done = await self._ask({"op": "run", "concurrency": concurrency, "seconds": seconds})
            self.errors += done["errors"]
            return Sample(done["count"], done["seconds"], done["cpu"])

        return run


@contextlib.asynccontextmanager
async def sdk_readers(python: Path, address: str) -> AsyncIterator[SdkReaders]:
    with tempfile.TemporaryDirectory(prefix="nacos-sdk-3-") as workdir:
        proc = await asyncio.create_subprocess_exec(
            str(python), str(WORKER), address, workdir,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={"HOME": workdir, "PATH": "/usr/bin:/bin"},  # its logs and cache stay in workdir
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            ready = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not ready:
                raise RuntimeError("the nacos-sdk-python 3.x worker did not start")
            yield SdkReaders(proc)
        finally:
            if proc.returncode is None and proc.stdin is not None:
                proc.stdin.write(b'{"op": "exit"}\n')
                with contextlib.suppress(ConnectionError):
                    await proc.stdin.drain()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def read_throughput(
    base: str,
    concurrency: int,
    duration: float,
    rounds: int,
    repeats: int,
    sdk_python: Path | None = None,
) -> dict[str, Any]:
    address = base.removeprefix("http://")
    phases: dict[str, list[Phase]] = {GRPC: [], HTTP: [], HTTP_AGAIN: []}
    credentials: dict[str, Any] = {
        "username": "nacos",
        "password": "nacos",
        "pool_size": concurrency,
    }
    async with NacosClient(address, username="nacos", password="nacos") as publisher:
        await publisher.config.publish(CONFIG["dataId"], "key: value\n" * 20, group=CONFIG["group"])
    async with contextlib.AsyncExitStack() as stack:
        contenders: dict[str, Slice] = {}
        for name, transport in ((GRPC, "grpc"), (HTTP, "http"), (HTTP_AGAIN, "http")):
            client = await stack.enter_async_context(
                NacosClient(address, transport=transport, **credentials)
            )
            contenders[name] = phase_slice(
                config_get_fetch(client), concurrency, duration, phases[name]
            )
        sdk = None
        if sdk_python is not None:
            sdk = await stack.enter_async_context(sdk_readers(sdk_python, address))
            contenders[SDK] = sdk.slice(concurrency, duration)
        runs = await compare(contenders, rounds, repeats)
    names = list(contenders)
    return {
        "concurrency": concurrency,
        "rounds": rounds,
        "repeats": repeats,
        "slice_seconds": duration,
        "reads_per_s": {name: round(rate(runs.total(name))) for name in names},
        "cpu_us_per_read": {name: round(cpu_per_op(runs.total(name)) * 1e6) for name in names},
        "vs_http": {name: runs.ratio(name, HTTP, rate).as_dict() for name in names if name != HTTP},
        "cpu_vs_http": {
            name: runs.ratio(name, HTTP, cpu_per_op).as_dict() for name in names if name != HTTP
        },
        "errors": {name: sum(p.forbidden + p.errors for p in phases[name]) for name in phases}
        | ({SDK: sdk.errors} if sdk is not None else {}),
    }


async def run(quick: bool, with_3x: bool = True) -> dict[str, Any]:
    raise_fd_limit(8192)
    python = None
    if with_3x:
        python = await asyncio.to_thread(contender_python, "nacos-sdk-python-3", PEER_3X)
    duration, rounds, repeats = (0.4, 2, 3) if quick else (1.5, 2, 5)
    async with dev_server_process("--flavor", "3.2") as (base, _):
        rows = [
            await read_throughput(base, concurrency, duration, rounds, repeats, python)
            for concurrency in (10, 100)
        ]
    return {"environment": environment(), "read_throughput": rows}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| concurrency | contender | reads/s | client CPU per read | reads/s vs HTTP | "
        "CPU per read vs HTTP |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["read_throughput"]:
        for name, rps in r["reads_per_s"].items():
            ratio = spread_text(r["vs_http"][name]) if name in r["vs_http"] else "1"
            cpu = spread_text(r["cpu_vs_http"][name]) if name in r["cpu_vs_http"] else "1"
            lines.append(
                f"| {r['concurrency']} | {name} | {rps:,} | {r['cpu_us_per_read'][name]} µs | "
                f"{ratio} | {cpu} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="config reads: gRPC, HTTP, nacos-sdk-python 3.x")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-3x", action="store_true", help="skip nacos-sdk-python 3.x")
    args = parser.parse_args()
    print(markdown(asyncio.run(run(args.quick, not args.no_3x))))


if __name__ == "__main__":
    main()
