"""Conformance: the official asyncio gRPC client (nacos-sdk-python 3.2.0) against the dev server.

The client runs from its own virtualenv (built on first use by the benchmarks' harness) in a
child process, with HOME in a temporary directory (it writes logs and caches there).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from benchmarks._harness import PEER_3X, contender_python
from nacos_async.testing import NacosDevServer
from nacos_async.testing._naming_store import InstanceRecord

pytest.importorskip("grpclib")

DRIVER = Path(__file__).with_name("_official_grpc_driver.py")
WAIT = 30.0  # its listen loop runs every 5 s and its first connect takes a second or two


def _python() -> Path:
    """The 3.2.0 client's interpreter; skip only when pip cannot reach the package."""
    try:
        return contender_python("nacos-sdk-python-3", PEER_3X)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot build the nacos-sdk-python 3.2.0 virtualenv (pip failed: {exc})")


class OfficialGrpcClient:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def call(self, op: str, *args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"op": op, "args": list(args)}) + "\n").encode())
        await self.proc.stdin.drain()
        raw = await asyncio.wait_for(self.proc.stdout.readline(), WAIT + 10)
        assert raw, "the official client's process ended unexpectedly"
        answer = json.loads(raw)
        assert answer["ok"], answer["error"]
        return answer["result"]

    async def event(self, kind: str) -> dict[str, Any]:
        """The next callback of ``kind`` (config or naming), skipping the other kind."""
        while True:
            event: dict[str, Any] = await self.call("next_event", WAIT)
            if event["kind"] == kind:
                return event


@pytest_asyncio.fixture
async def official(
    nacos_server: NacosDevServer, tmp_path: Path
) -> AsyncIterator[OfficialGrpcClient]:
    python = await asyncio.to_thread(_python)
    proc = await asyncio.create_subprocess_exec(
        str(python), str(DRIVER), nacos_server.address, str(tmp_path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        yield OfficialGrpcClient(proc)
        assert proc.stdin is not None
        proc.stdin.write(b'{"op": "exit"}\n')
        await proc.stdin.drain()
        await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.nacos_server(flavor="3.1", auth=True)
async def test_official_grpc_client_config(
    nacos_server: NacosDevServer, official: OfficialGrpcClient
) -> None:
    server = nacos_server
    assert await official.call("publish_config", "app.yaml", "DEFAULT_GROUP", "a: 1") is True
    assert server.get_config("app.yaml") == "a: 1"
    assert await official.call("get_config", "app.yaml", "DEFAULT_GROUP") == "a: 1"

    assert await official.call("add_listener", "app.yaml", "DEFAULT_GROUP") is True
    await server.grpc.wait_until(
        lambda: any(c.listens for c in server.grpc.connections), within=WAIT
    )
    server.publish_config("app.yaml", "a: 2")  # over the store, as an HTTP publish would
    event = await official.event("config")
    assert (event["data_id"], event["group"], event["content"]) == ("app.yaml", "DEFAULT_GROUP",
                                                                    "a: 2")  # fmt: skip
    assert server.stats.grpc_pushes["acked"] >= 1

    assert await official.call("remove_config", "app.yaml", "DEFAULT_GROUP") is True
    assert server.get_config("app.yaml") is None
    assert await official.call("get_config", "app.yaml", "DEFAULT_GROUP") == ""
    assert server.stats.forbidden == {}
    assert server.stats.grpc_requests["ConfigPublishRequest"] == 1
    assert server.stats.logins  # it logged in over HTTP and sent the token over gRPC


@pytest.mark.nacos_server(flavor="2.x", auth=True)
async def test_official_grpc_client_naming(
    nacos_server: NacosDevServer, official: OfficialGrpcClient
) -> None:
    server = nacos_server
    key = ("public", "DEFAULT_GROUP", "orders")
    assert await official.call("register", "orders", "10.0.0.5", 8080) is True
    [record] = server.naming.services[key].instances.values()
    assert (record.ip, record.port, record.weight, record.metadata) == ("10.0.0.5", 8080, 2.0,
                                                                        {"v": "2"})  # fmt: skip
    assert record.owner  # bound to its gRPC connection
    listed = await official.call("list", "orders")
    assert [(h["ip"], h["port"], h["weight"]) for h in listed] == [("10.0.0.5", 8080, 2.0)]

    assert await official.call("subscribe", "orders") is True
    server.naming.register(*key, InstanceRecord("10.0.0.6", 9090))  # a change over HTTP
    while sorted(h["ip"] for h in (await official.event("naming"))["hosts"]) != [
        "10.0.0.5", "10.0.0.6"]:  # fmt: skip
        pass

    assert await official.call("deregister", "orders", "10.0.0.5", 8080) is True
    while [h["ip"] for h in (await official.event("naming"))["hosts"]] != ["10.0.0.6"]:
        pass
    assert [h["ip"] for h in await official.call("list", "orders")] == ["10.0.0.6"]
    assert sorted(server.naming.services[key].instances) == [("10.0.0.6", 9090)]
    assert server.stats.forbidden == {}
