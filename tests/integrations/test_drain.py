"""Deregister first, then drain: real web servers (uvicorn, aiohttp's run_app) get SIGTERM, the
instance leaves the registry at once, requests keep succeeding for the drain, then the server
stops as it would have. Readiness endpoints report health and invalid live configs."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import BaseModel

from nacos_async import NacosSettings
from nacos_async.integrations._common import ServiceRegistration
from nacos_async.integrations.aiohttp import NACOS_CLIENT, setup_nacos
from nacos_async.integrations.live_config import LiveConfig
from nacos_async.testing import NacosDevServer

from ..test_shutdown import instances

FASTAPI_APP = """
from fastapi import FastAPI

from nacos_async import NacosSettings
from nacos_async.integrations.fastapi import NacosLifespan, ServiceRegistration

settings = NacosSettings(server_addr="{server}", username="nacos", password="nacos")
nacos = NacosLifespan(settings, register=ServiceRegistration("web", {port}, ip="127.0.0.1",
                                                             drain={drain}))
app = FastAPI(lifespan=nacos)
app.get("/ready")(nacos.readiness)


@app.get("/")
async def index() -> dict[str, str]:
    return {{"ok": "yes"}}
"""

AIOHTTP_APP = """
from aiohttp import web

from nacos_async import NacosSettings
from nacos_async.integrations.aiohttp import ServiceRegistration, setup_nacos


async def index(request: web.Request) -> web.Response:
    return web.json_response({{"ok": "yes"}})


app = web.Application()
app.router.add_get("/", index)
setup_nacos(app, NacosSettings(server_addr="{server}", username="nacos", password="nacos"),
            register=ServiceRegistration("web", {port}, ip="127.0.0.1", drain={drain}),
            readiness_path="/ready")
web.run_app(app, host="127.0.0.1", port={port}, print=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def get(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status


async def serving(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if await get(url) == 200:
                return
        except aiohttp.ClientError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered"
        await asyncio.sleep(0.05)  # waiting for another process to bind its port


@pytest.mark.parametrize("server_kind", ["uvicorn", "run_app"])
async def test_sigterm_deregisters_first_and_keeps_serving_through_the_drain(
    tmp_path: Path, server_kind: str
) -> None:
    if server_kind == "uvicorn":
        pytest.importorskip("uvicorn")
        pytest.importorskip("fastapi")
    drain = 1.5
    port = free_port()
    async with NacosDevServer() as nacos:
        template = FASTAPI_APP if server_kind == "uvicorn" else AIOHTTP_APP
        (tmp_path / "app.py").write_text(
            template.format(server=nacos.address, port=port, drain=drain)
        )
        if server_kind == "uvicorn":
            command = ["-m", "uvicorn", "app:app", "--port", str(port), "--log-level", "warning"]
        else:
            command = ["app.py"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await serving(f"http://127.0.0.1:{port}/")
            assert await get(f"http://127.0.0.1:{port}/ready") == 200
            assert instances(nacos, "web") == [("127.0.0.1", port)]
            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            while instances(nacos, "web"):
                assert time.monotonic() - signalled < 1.0, "still registered after 1 s"
                await asyncio.sleep(0.01)
            answered = 0
            while time.monotonic() - signalled < drain * 0.8:  # during the drain: still serving
                assert await get(f"http://127.0.0.1:{port}/") == 200
                answered += 1
                await asyncio.sleep(0.05)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        stopped_after = time.monotonic() - signalled
    assert answered > 5
    assert stopped_after >= drain * 0.9, stopped_after  # it did wait for the drain
    assert proc.returncode in (0, -signal.SIGTERM), (proc.returncode, err.decode()[-2000:])


class Greeting(BaseModel):
    text: str


async def test_readiness_reports_health_and_invalid_live_configs() -> None:
    async with NacosDevServer() as nacos:
        nacos.publish_config("greeting.json", json.dumps({"text": "hi"}), type="json")
        live = LiveConfig("greeting.json", Greeting)
        changed = asyncio.Event()
        live.on_error(lambda _: changed.set())
        app = web.Application()
        setup_nacos(
            app, NacosSettings(server_addr=nacos.address, username="nacos", password="nacos",
                               config_poll_interval=0.05),
            configs=[live], readiness_path="/ready",
        )  # fmt: skip
        from aiohttp.test_utils import TestClient, TestServer

        async with TestClient(TestServer(app)) as http:
            ready = await http.get("/ready")
            body = await ready.json()
            assert ready.status == 200 and body["ok"] is True and body["state"] == "running"
            assert "token" not in json.dumps(body).lower().replace("token_valid_for", "")
            nacos.publish_config("greeting.json", json.dumps({"wrong": 1}), type="json")
            await asyncio.wait_for(changed.wait(), 10)
            ready = await http.get("/ready")
            body = await ready.json()
            assert ready.status == 503
            assert "DEFAULT_GROUP/greeting.json" in body["invalid_live_configs"]
            assert app[NACOS_CLIENT].health().ok  # the client itself is fine


def test_a_drain_must_be_a_sensible_number_of_seconds() -> None:
    with pytest.raises(ValueError, match="drain must be from 0 to 600 seconds, got -1"):
        ServiceRegistration("web", 8080, drain=-1)
    with pytest.raises(ValueError, match="drain must be a number of seconds, got 'x'"):
        ServiceRegistration("web", 8080, drain="x")  # type: ignore[arg-type]
