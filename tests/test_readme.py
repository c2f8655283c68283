"""Every Python block of the README runs as written, against a dev server.

Each ```python block follows a ``<!-- readme-test: KIND [file=NAME] [project=NAME] -->``
comment that says how to run it (a block without one fails this test):

- ``script``: run with Python; must exit 0. The example addresses and ``password="..."`` are
  replaced by the dev server's.
- ``worker``: run, wait for its instance, send SIGTERM: it must deregister and exit 0.
- ``uvicorn`` / ``run-app``: serve the app (uvicorn, or the script's own ``web.run_app``), call
  it, send SIGTERM: its instance must be gone.
- ``pytest`` (and any block with ``project=``): files of a user's project, run by pytest in a
  separate process, with the app files above beside them.

The dev server holds what the examples expect: ``app.json``, ``jobs.json``, and an ``orders``
service backed by a small HTTP server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from nacos_async import NacosClient
from nacos_async.testing import NacosDevServer

from .test_pytest_plugin_runners import run_pytest
from .test_shutdown import finish, gone_within, instances

README = Path(__file__).parent.parent / "README.md"
DIRECTIVE = re.compile(r"^<!-- readme-test: (.*?) -->\n```(\w*)\n(.*?)^```$", re.M | re.S)
EXAMPLE_ADDRESSES = ("10.0.0.1:8848,10.0.0.2:8848", "127.0.0.1:8848")


@dataclass
class Block:
    kind: str
    lang: str
    code: str
    line: int
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind}@README.md:{self.line}"


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in DIRECTIVE.finditer(text):
        words = shlex.split(match.group(1))
        options = dict(word.split("=", 1) for word in words if "=" in word)
        kind = next((word for word in words if "=" not in word), "file")
        line = text.count("\n", 0, match.start()) + 2
        found.append(Block(kind, match.group(2), match.group(3), line, options))
    return found


BLOCKS = readme_blocks()
KINDS = {"script", "worker", "uvicorn", "run-app", "pytest", "file"}


def of_kind(*kinds: str) -> list[Block]:
    return [b for b in BLOCKS if b.kind in kinds]


def test_every_python_block_says_how_it_is_tested() -> None:
    text = README.read_text(encoding="utf-8")
    python_fences = text.count("\n```python\n")
    assert python_fences == sum(b.lang == "python" for b in BLOCKS)
    assert {b.kind for b in BLOCKS} <= KINDS
    assert of_kind("script") and of_kind("worker") and of_kind("uvicorn") and of_kind("run-app")


@asynccontextmanager
async def example_server() -> AsyncIterator[NacosDevServer]:
    """A dev server with the configs and the ``orders`` service the examples use."""

    async def order(request: web.Request) -> web.Response:
        return web.json_response({"id": 42, "path": request.path})

    app = web.Application()
    app.router.add_get("/{tail:.*}", order)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with NacosDevServer() as server:
            server.publish_config("app.json", json.dumps({"name": "orders", "port": 8000}))
            server.publish_config("jobs.json", json.dumps({"batch_size": 100}))
            async with NacosClient(server.address, username="nacos", password="nacos") as nacos:
                await nacos.naming.register_instance("orders", "127.0.0.1", runner.addresses[0][1])
                yield server
    finally:
        await runner.cleanup()


def runnable(block: Block, server: NacosDevServer) -> str:
    code = block.code.replace('password="..."', 'password="nacos"')
    for example in EXAMPLE_ADDRESSES:
        code = code.replace(f'"{example}"', f'"{server.address}"')
    return code


def env_for(server: NacosDevServer) -> dict[str, str]:
    return {
        **os.environ,
        "NACOS_SERVER_ADDR": server.address,
        "NACOS_USERNAME": "nacos",
        "NACOS_PASSWORD": "nacos",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def registered(server: NacosDevServer, service: str, address: tuple[str, int]) -> None:
    """Wait until ``address`` is an instance of ``service`` (another process registers it)."""
    async with asyncio.timeout(30):
        while address not in instances(server, service):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def answer(url: str) -> object:
    """The app's JSON answer, once it listens (it registers during start-up, just before)."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(30):
        while True:
            try:
                async with http.get(url) as resp:
                    return await resp.json()
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.01)


@pytest.mark.parametrize("block", of_kind("script"), ids=str)
async def test_script(block: Block, tmp_path: Path) -> None:
    async with example_server() as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", runnable(block, server), cwd=tmp_path, env=env_for(server),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        code, out, err = await finish(proc)
    assert code == 0, f"README.md:{block.line} failed:\n{out}\n{err}"


@pytest.mark.parametrize("block", of_kind("worker"), ids=str)
async def test_worker(block: Block, tmp_path: Path) -> None:
    async with example_server() as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", runnable(block, server), cwd=tmp_path, env=env_for(server),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        assert b"working" in await asyncio.wait_for(proc.stdout.readline(), 30)
        assert instances(server, "jobs") == [("10.0.0.7", 9000)]
        proc.send_signal(signal.SIGTERM)
        await gone_within(1.0, server, "jobs")
        code, _, err = await finish(proc)
    assert code == 0 and "Traceback" not in err, err


@pytest.mark.parametrize("block", of_kind("uvicorn", "run-app"), ids=str)
async def test_web_app_under_its_server(block: Block, tmp_path: Path) -> None:
    pytest.importorskip("uvicorn" if block.kind == "uvicorn" else "aiohttp")
    port = free_port()
    (tmp_path / block.options["file"]).write_text(
        block.code.replace("PORT = 8080", f"PORT = {port}")
    )
    module = block.options["file"].removesuffix(".py")
    if block.kind == "uvicorn":
        command = ["-m", "uvicorn", f"{module}:app", "--port", str(port), "--log-level", "warning"]
        registration, expected_code = ("127.0.0.1", 8000), -signal.SIGTERM
    else:
        command = [block.options["file"]]
        registration, expected_code = ("127.0.0.1", port), 0
    async with example_server() as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=tmp_path, env=env_for(server),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await registered(server, "orders", registration)
            assert await answer(f"http://127.0.0.1:{port}/") == {
                "name": "orders",
                "namespace": "public",
            }
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(1.0):  # deregistered by the app's own shutdown
                while registration in instances(server, "orders"):  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
            code, _, err = await finish(proc)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert code == expected_code and "Traceback" not in err, err


def projects() -> Iterator[str]:
    yield from sorted({b.options["project"] for b in BLOCKS if "project" in b.options})


@pytest.mark.parametrize("project", list(projects()))
def test_pytest_project(project: str, tmp_path: Path) -> None:
    files = {
        b.options["file"]: b.code + "\n" for b in BLOCKS if b.options.get("project") == project
    }
    apps = {b.options["file"]: b.code + "\n" for b in of_kind("uvicorn", "run-app")}
    tests = sum(code.count("\nasync def test_") + code.count("\ndef test_")
                for name, code in files.items() if name.startswith("test_"))  # fmt: skip
    # an anyio project needs no pytest-asyncio: run it as if it were not installed
    outcomes, output = run_pytest(
        tmp_path, {**apps, **files}, hide_pytest_asyncio=project == "anyio"
    )
    assert set(outcomes) == {"passed"} and outcomes["passed"] >= tests, output
