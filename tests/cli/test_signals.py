"""SIGTERM and SIGINT to the command line's long-running commands, in a real process."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from nacos_async.testing import NacosDevServer

from ..test_shutdown import finish, gone_within, instances

CLI = "import sys; from nacos_async.cli import main; sys.exit(main(sys.argv[1:]))"


async def cli(server: NacosDevServer, *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLI, *argv, "--server", server.address,
        "--username", "nacos", "--password", "nacos",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_register_deregisters_on_a_signal_and_exits_0(sig: signal.Signals) -> None:
    async with NacosDevServer() as server:
        proc = await cli(server, "naming", "register", "orders", "10.0.0.5", "8080")
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.startswith(b"registered 10.0.0.5:8080")
        assert instances(server, "orders") == [("10.0.0.5", 8080)]
        proc.send_signal(sig)
        await gone_within(1.0, server, "orders")
        code, _, err = await finish(proc)
    assert code == 0 and "Traceback" not in err, err


async def test_config_watch_ends_on_sigterm_with_0() -> None:
    async with NacosDevServer() as server:
        proc = await cli(server, "config", "watch", "app.json", "--initial")
        assert proc.stderr is not None and proc.stdout is not None
        first = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert first == b"watching DEFAULT_GROUP/app.json; Ctrl-C to stop\n"
        assert (
            await asyncio.wait_for(proc.stdout.readline(), 30)
            == b"--- DEFAULT_GROUP/app.json md5=-\n"
        )
        proc.send_signal(signal.SIGTERM)
        code, _, err = await finish(proc)
    assert code == 0 and "Traceback" not in err, err


async def test_an_interrupted_one_shot_command_exits_130() -> None:
    connected = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        connected.set()

    listener = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLI, "config", "get", "app.json",
            "--server", f"127.0.0.1:{port}", "--timeout", "60",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await asyncio.wait_for(connected.wait(), 30)  # the command now waits for an answer
        proc.send_signal(signal.SIGINT)
        code, _, err = await finish(proc)
        for writer in writers:
            writer.close()
    assert code == 130 and "Traceback" not in err, err
