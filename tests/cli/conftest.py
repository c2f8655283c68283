"""A dev server on its own loop in a thread: the CLI runs its own ``asyncio.run``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from nacos_async.testing import NacosDevServer


class ThreadedServer:
    def __init__(self) -> None:
        self.address = ""
        self.server: NacosDevServer | None = None


@pytest.fixture
def threaded_server() -> Iterator[ThreadedServer]:
    ready = threading.Event()
    holder = ThreadedServer()
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None

    async def serve() -> None:
        nonlocal stop, loop
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        async with NacosDevServer(flavor="3.1", token_ttl=1234, long_poll_min_hold=0.5) as server:
            holder.address, holder.server = server.address, server
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield holder
    assert loop is not None and stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)


@pytest.fixture
def server_address(threaded_server: ThreadedServer) -> str:
    return threaded_server.address
