"""Conformance: the official nacos-sdk-python 2.0.11 client against the dev server.

The client runs in a child process (see ``_official_driver.py``); every call's answer is
checked here, and so is the server's own view of what happened.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from nacos_async.testing import NacosDevServer

pytest.importorskip("nacos", reason="nacos-sdk-python 2.0.11 is not installed "
                    "(pip install --no-deps nacos-sdk-python==2.0.11)")  # fmt: skip

DRIVER = Path(__file__).with_name("_official_driver.py")


class OfficialClient:
    """One official ``NacosClient`` in a child process, called op by op."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = json.dumps({"op": op, "args": list(args), "kwargs": kwargs}) + "\n"
        self.proc.stdin.write(line.encode())
        await self.proc.stdin.drain()
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        assert raw, "the official client's process ended unexpectedly"
        answer = json.loads(raw)
        assert answer["ok"], answer["error"]
        return answer["result"]


@pytest_asyncio.fixture
async def official(nacos_server: NacosDevServer, tmp_path: Path) -> AsyncIterator[OfficialClient]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DRIVER),
        nacos_server.address,
        str(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield OfficialClient(proc)
        assert proc.stdin is not None
        proc.stdin.write(b'{"op": "exit"}\n')
        await proc.stdin.drain()
        await asyncio.wait_for(proc.wait(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.nacos_server(flavor="2.x", auth=True)
async def test_official_client_config_and_watcher(
    nacos_server: NacosDevServer, official: OfficialClient
) -> None:
    server = nacos_server
    token = await official.call("token")
    assert server.jwt.verify(token)[0] == "nacos"
    assert server.stats.logins["/v1/auth/login"] == 1
    assert server.stats.tokens_on_login == 0

    assert await official.call("publish_config", "app.yaml", "DEFAULT_GROUP", "a: 1") is True
    assert server.get_config("app.yaml") == "a: 1"
    assert await official.call("get_config", "app.yaml", "DEFAULT_GROUP") == "a: 1"

    assert await official.call("add_config_watcher", "app.yaml", "DEFAULT_GROUP") is True
    await server.wait_for_listeners(1, within=20)  # its long-poll is parked on the server
    server.publish_config("app.yaml", "a: 2")
    event = await official.call("next_event", 20)
    assert (event["data_id"], event["group"], event["content"]) == (
        "app.yaml",
        "DEFAULT_GROUP",
        "a: 2",
    )
    assert server.stats.requests["POST /v1/cs/configs/listener"] >= 1

    assert await official.call("remove_config", "app.yaml", "DEFAULT_GROUP") is True
    assert server.get_config("app.yaml") is None
    assert await official.call("get_config", "app.yaml", "DEFAULT_GROUP", no_snapshot=True) is None
    assert server.stats.forbidden == {}


@pytest.mark.nacos_server(flavor="3.1")
async def test_official_client_naming(
    nacos_server: NacosDevServer, official: OfficialClient
) -> None:
    server = nacos_server
    added = await official.call(
        "add_naming_instance", "orders", "10.0.0.5", 8080, "east", 2.0, {"v": "2"}
    )
    assert added is True
    hosts = (await official.call("list_naming_instance", "orders"))["hosts"]
    assert [(h["ip"], h["port"], h["clusterName"], h["weight"], h["metadata"]) for h in hosts] == [
        ("10.0.0.5", 8080, "east", 2.0, {"v": "2"})
    ]
    beat = await official.call(
        "send_heartbeat", "orders", "10.0.0.5", 8080, "east", 2.0, {"v": "2"}
    )
    assert beat["code"] == 10200
    assert len(server.naming.services[("public", "DEFAULT_GROUP", "orders")].instances) == 1

    assert await official.call("remove_naming_instance", "orders", "10.0.0.5", 8080) is True
    assert (await official.call("list_naming_instance", "orders"))["hosts"] == []
    assert server.stats.logins["/v1/auth/login"] == 1
    assert server.stats.forbidden == {}
