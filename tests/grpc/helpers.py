"""Helpers for gRPC client tests: a client pinned to gRPC, a watch recorder, waiting for I/O."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from nacos_async import ConfigChange, NacosClient
from nacos_async.testing import NacosDevServer

WAIT = 10.0  # bound on every wait for network I/O (real seconds; generous for a loaded machine)


def grpc_client(*servers: NacosDevServer, **options: Any) -> NacosClient:
    """A client whose config goes over gRPC to ``servers`` (credentials when auth is on)."""
    options.setdefault("transport", "grpc")
    options.setdefault("retry_backoff", 0.01)
    if servers[0].auth and "username" not in options:
        options.update(username=servers[0].admin_username, password=servers[0].admin_password)
    address = ",".join(server.address for server in servers)
    return NacosClient(address, rng=options.pop("rng", random.Random(0)), **options)


async def eventually(predicate: Callable[[], bool], within: float = WAIT) -> None:
    """Wait until ``predicate()`` holds (it depends on network I/O, never on a timer)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - counters moved by I/O, no event to await
            await asyncio.sleep(0.005)


class Recorder:
    """Collects what a listener is told, and waits for a given value."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []
        self._changed = asyncio.Event()

    def __call__(self, change: ConfigChange) -> None:
        self.seen.append(change.content)
        self._changed.set()

    async def until(self, content: str | None, within: float = WAIT) -> None:
        async with asyncio.timeout(within):
            while not self.seen or self.seen[-1] != content:
                self._changed.clear()
                await self._changed.wait()


def config_connections(server: NacosDevServer) -> list[Any]:
    return [c for c in server.grpc.connections if c.labels.get("module") == "config"]


def client_tasks() -> list[asyncio.Task[Any]]:
    """Tasks still running other than the caller and the dev server's own."""
    current = asyncio.current_task()
    return [
        task
        for task in asyncio.all_tasks()
        if task is not current and "nacos_async/testing" not in _where(task)
    ]


def _where(task: asyncio.Task[Any]) -> str:
    code = getattr(task.get_coro(), "cr_code", None)
    return code.co_filename if code is not None else ""
