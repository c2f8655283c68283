"""Helpers for naming tests: waiting on client events while a fake clock moves."""

from __future__ import annotations

import anyio

from nacos_async import NacosClient
from nacos_async.events import Event


class EventCounter:
    """Counts client events of some kinds and lets a test await the next ones."""

    def __init__(self, client: NacosClient, *kinds: str) -> None:
        self.kinds = set(kinds)
        self.count = 0
        self._changed = anyio.Event()
        client.add_event_hook(self._hook)

    def _hook(self, event: Event) -> None:
        if event.kind in self.kinds:
            self.count += 1
            self._changed.set()

    async def wait_for(self, total: int, *, within: float = 5.0) -> None:
        """Wait (real I/O, bounded) until ``total`` events were seen."""
        with anyio.fail_after(within):
            while self.count < total:
                await self._changed.wait()
                self._changed = anyio.Event()
