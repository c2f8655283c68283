"""Which process and event loop a started client belongs to.

An aiohttp session (and a gRPC connection) works only on the loop that made it, and a forked
child shares the parent's sockets and selector: using either there corrupts the parent's state
or fails deep inside aiohttp. The client binds at start and checks on every request, so the
mistake surfaces as a ``NacosClosedError`` that says what to do.
"""

from __future__ import annotations

import asyncio
import os

from nacos_async.errors import NacosClosedError

_forks = [0]  # bumped in every forked child: reading it costs nothing, unlike os.getpid()


def _count_fork() -> None:
    _forks[0] += 1


os.register_at_fork(after_in_child=_count_fork)


class Binding:
    """The loop and process generation a client started on."""

    __slots__ = ("_fork", "_loop")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fork = -1

    def bind(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._fork = _forks[0]

    @property
    def forked(self) -> bool:
        """True in a child forked after the client started (its connections are the parent's)."""
        return self._loop is not None and self._fork != _forks[0]

    def check(self) -> None:
        """Raise ``NacosClosedError`` when used from a forked child or from another loop."""
        if self._fork != _forks[0]:
            raise NacosClosedError(
                "this client was started in another process (before a fork): create and start "
                "the client in the child process that uses it"
            )
        if asyncio.get_running_loop() is not self._loop:
            raise NacosClosedError(
                "this client was started on another event loop: create and start the client in "
                "the event loop that uses it (one client per loop)"
            )
