"""SIGTERM and SIGINT as an orderly shutdown: ``stop_on_signals`` and ``run_worker``.

The worker tests run a real worker process against a dev server in this process, send it the
signal Kubernetes, systemd and docker send, and watch the server.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from pathlib import Path

import anyio
import pytest

from nacos_async import run_worker, stop_on_signals
from nacos_async.testing import NacosDevServer

WORKER = """
import sys

from nacos_async import NacosClient, run_worker


async def main() -> None:
    async with NacosClient(sys.argv[1], username="nacos", password="nacos") as nacos:
        await nacos.naming.register_instance("jobs", "10.0.0.7", 9000)
        print("registered", flush=True)
        async for change in nacos.config.watch("jobs.json"):
            print(change.content, flush=True)


run_worker(main(), shutdown_timeout=float(sys.argv[2]))
print("after run_worker", flush=True)
"""


def instances(server: NacosDevServer, service: str) -> list[tuple[str, int]]:
    for svc in server.naming.list_services("public", "DEFAULT_GROUP"):
        if svc.name == service:
            return sorted((i.ip, i.port) for i in svc.instances.values())
    return []


async def gone_within(seconds: float, server: NacosDevServer, service: str) -> float:
    """Seconds until ``service`` has no instance (the worker process deregisters it)."""
    started = time.monotonic()
    with anyio.fail_after(seconds):
        # the server store has no change hook; the other process's request lands any moment
        while instances(server, service):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    return time.monotonic() - started


async def start_worker(
    tmp_path: Path, server: NacosDevServer, shutdown_timeout: float = 10.0
) -> asyncio.subprocess.Process:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), server.address, str(shutdown_timeout),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line == b"registered\n", line + (await proc.stderr.read() if proc.stderr else b"")
    assert instances(server, "jobs") == [("10.0.0.7", 9000)]
    return proc


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_a_signal_deregisters_and_exits_0(tmp_path: Path, sig: signal.Signals) -> None:
    async with NacosDevServer() as server:
        proc = await start_worker(tmp_path, server)
        proc.send_signal(sig)
        await gone_within(1.0, server, "jobs")
        code, out, err = await finish(proc)
    assert code == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert out.splitlines()[-1] == "after run_worker"  # the program goes on after the block


async def test_a_hanging_server_delays_shutdown_by_the_clients_close_timeout_only(
    tmp_path: Path,
) -> None:
    async with NacosDevServer() as server:
        proc = await start_worker(tmp_path, server)
        server.set_latency(3600)  # every request hangs, the deregistration too
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code, _, err = await finish(proc)
        elapsed = time.monotonic() - started
    assert code == 0 and "Traceback" not in err, err
    assert elapsed < 10  # close() gives up on the deregistration after 5 s


async def test_shutdown_timeout_and_a_second_signal_force_the_exit(tmp_path: Path) -> None:
    async with NacosDevServer() as server:
        server_hangs = await start_worker(tmp_path, server, shutdown_timeout=0.5)
        impatient = await start_worker(tmp_path, server)
        server.set_latency(3600)
        server_hangs.send_signal(signal.SIGTERM)
        impatient.send_signal(signal.SIGTERM)
        impatient.send_signal(signal.SIGINT)  # whichever is handled second forces the exit
        results = [await finish(server_hangs), await finish(impatient)]
    (code1, _, err1), (code2, _, err2) = results
    assert code1 == 1 and "shutdown still running after 0.5 s: exiting with status 1" in err1
    # two pending signals are delivered lowest number first when the process was not running
    # in between (a busy machine): SIGINT may come first, so either one can be "again"
    assert code2 == 1 and re.search(r"SIG(INT|TERM) received again during shutdown", err2), err2
    assert "Traceback" not in err1 + err2


async def test_the_block_is_cancelled_and_the_code_after_it_runs() -> None:
    before = signal.getsignal(signal.SIGTERM)
    reached_end = False
    async with stop_on_signals(shutdown_timeout=600) as stopper:
        signal.raise_signal(signal.SIGTERM)
        await asyncio.Event().wait()  # cancelled by the signal
        reached_end = True
    assert stopper.received is signal.SIGTERM and not reached_end
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # nothing left pending
    assert signal.getsignal(signal.SIGTERM) == before


async def test_a_block_that_ends_by_itself() -> None:
    before = signal.getsignal(signal.SIGINT)  # pytest-asyncio's runner has its own
    async with stop_on_signals() as stopper:
        assert signal.getsignal(signal.SIGINT) != before
    assert stopper.received is None
    assert signal.getsignal(signal.SIGINT) == before


async def test_another_cancellation_is_not_swallowed() -> None:
    entered = asyncio.Event()

    async def body() -> None:
        async with stop_on_signals():
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(body())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_bad_timeout() -> None:
    async def main() -> None:
        raise AssertionError("never runs")

    with pytest.raises(ValueError, match="shutdown_timeout must be > 0 seconds, got 0"):
        run_worker(main(), shutdown_timeout=0)  # and no "never awaited" warning
    with pytest.raises(ValueError, match="got '10'"):
        stop_on_signals(shutdown_timeout="10")  # type: ignore[arg-type]


def test_run_worker_returns_when_main_ends() -> None:
    done: list[bool] = []

    async def main() -> None:
        done.append(True)

    run_worker(main())
    assert done == [True]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
