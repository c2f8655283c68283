"""Server pushes on a connection's bi-stream: sent until acked, retried per policy, counted.

A push is a request the server writes on the stream; the client acks it with any response
carrying the push's ``requestId``. Ack timeouts and retry delays run on the server's clock, so
a ``FakeClock`` decides when they pass. Handlers get a ``Pusher`` rather than the gRPC side.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from nacos_async.grpc.codec import json_payload
from nacos_async.testing._grpc_connections import GrpcConnection
from nacos_async.testing._state import DevState


@dataclass(frozen=True)
class PushPolicy:
    """How long to wait for an ack, when to try again, and what giving up means."""

    ack_timeout: float
    retry_delay: Callable[[int], float | None]  # after the n-th failure; None = give up
    close_on_give_up: bool


CONFIG_PUSH = PushPolicy(3.0, lambda n: 2.0 * n if n < 50 else None, close_on_give_up=True)
"""``RpcConfigChangeNotifier``: 3 s ack timeout, retry after 2n s, 50 failures close the
connection."""
NAMING_PUSH = PushPolicy(5.0, lambda n: 1.0, close_on_give_up=False)
"""``PushExecuteTask``: 5 s ack timeout, retry after 1 s while the subscriber exists."""
DETECTION = PushPolicy(5.0, lambda n: None, close_on_give_up=True)
"""The connection ejector's probe: 5 s to answer or the connection is unregistered."""
RESET = PushPolicy(3.0, lambda n: None, close_on_give_up=False)
"""``ConnectResetRequest``: 3 s for the ack, and the client switches by itself."""


class Pusher:
    """Sends pushes for one dev server; ``on_change`` wakes whoever waits on push progress."""

    def __init__(self, state: DevState, on_change: Callable[[], None]) -> None:
        self._state = state
        self._on_change = on_change
        self._ids = itertools.count(1)
        self._last_ref_time = 0
        self.dropping = False  # the drop-pushes switch: count, do not send (so: unacked)

    def ref_time(self) -> int:
        """``lastRefTime`` in ms, strictly increasing: clients drop pushes that are not newer."""
        self._last_ref_time = max(int(self._state.wall_time() * 1000), self._last_ref_time + 1)
        return self._last_ref_time

    async def push(
        self,
        connection: GrpcConnection,
        type_: str,
        body: Callable[[], dict[str, Any]],
        policy: PushPolicy,
    ) -> bool:
        """Send a request on the stream until acked (per ``policy``); True once acked."""
        stats = self._state.stats.grpc_pushes
        clock = self._state.clock
        failures = 0
        loop = asyncio.get_running_loop()
        while not connection.closed:
            request_id = str(next(self._ids))
            future: asyncio.Future[int] = loop.create_future()
            connection.pending[request_id] = future
            try:
                message = json_payload(type_, {"headers": {}, "requestId": request_id, **body()})
                if self.dropping:
                    stats["dropped"] += 1
                elif await connection.stream.send(message):
                    stats["sent"] += 1
                self._on_change()
                acked = await wait_for_ack(future, policy.ack_timeout, clock.sleep)
            finally:
                connection.pending.pop(request_id, None)
            if acked:
                stats["acked"] += 1
                self._on_change()
                return True
            stats["unacked"] += 1
            failures += 1
            delay = policy.retry_delay(failures)
            if delay is None:
                stats["gave_up"] += 1
                self._on_change()
                if policy.close_on_give_up:
                    connection.stream.end("ok")
                return False
            stats["retried"] += 1
            await clock.sleep(delay)
        return False


async def wait_for_ack(
    future: asyncio.Future[int], timeout: float, sleep: Callable[[float], Coroutine[Any, Any, None]]
) -> bool:
    """True if the ack arrives with ``resultCode`` 200 before ``sleep(timeout)`` returns.

    ``sleep`` is the server clock's: with a fake clock the timeout passes when the test says.
    """
    timer = asyncio.get_running_loop().create_task(sleep(timeout))
    waiting: set[asyncio.Future[Any]] = {future, timer}
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer
    return future.done() and not future.cancelled() and future.result() == 200
