"""Long-polling many keys: batches whose held requests outlive a turn of the watcher.

The v1 listener is stateless: each request names every key it asks about, with the MD5 the
client holds, and the server holds it until one of them differs. So the keys are split into
batches of at most ``BATCH``, each with its own held request, and a batch is sent again only
when its question changes (a key added, removed, or read anew after a change): a change of one
key re-sends its batch, not every watched key, and a turn returns as soon as any batch answers
instead of waiting for the others to time out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from nacos_async.background import Supervisor
from nacos_async.config.models import ConfigKey

BATCH = 3000  # keys per long-poll request (the server takes at most 10,000)

Listen = Callable[[list[tuple[ConfigKey, str]], bool], Awaitable[set[ConfigKey]]]


@dataclass(eq=False)
class _Request:
    """One held request and, once it ends, its answer."""

    task: asyncio.Task[None] | None = None
    changed: set[ConfigKey] = field(default_factory=set)
    error: Exception | None = None


@dataclass(eq=False)
class _Batch:
    keys: dict[ConfigKey, None] = field(default_factory=dict)  # in the order they came
    asked: dict[ConfigKey, str] | None = None  # what the pending request asks (key -> MD5)
    request: _Request | None = None


class LongPollBatches:
    """Keeps one held listener request per batch of keys, across turns of the watcher."""

    def __init__(self, listen: Listen, supervisor: Supervisor, *, batch: int = BATCH) -> None:
        self._listen = listen
        self._supervisor = supervisor
        self._size = batch
        self._batches: list[_Batch] = []
        self._batch_of: dict[ConfigKey, _Batch] = {}

    async def changes(self, watched: Mapping[ConfigKey, str], *, fresh: bool) -> set[ConfigKey]:
        """Wait for any batch to answer; the keys it names (an error it met is raised).

        Cancelling the wait leaves the held requests running: the next call reuses every one
        whose question is still the same.
        """
        self._assign(watched)
        for batch in self._batches:
            asked = {key: watched[key] for key in batch.keys}
            if batch.request is None or batch.asked != asked:
                self._send(batch, asked, fresh)
        pending = [b.request.task for b in self._batches if b.request and b.request.task]
        if pending:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        changed: set[ConfigKey] = set()
        error: Exception | None = None
        for batch in self._batches:
            request = batch.request
            if request is not None and request.task is not None and request.task.done():
                batch.request = None  # answered: asked again next turn
                changed |= request.changed
                error = error or request.error
        if error is not None:
            raise error
        return changed

    def stop(self) -> None:
        """Cancel every held request and forget the batches."""
        for batch in self._batches:
            self._cancel(batch)
        self._batches.clear()
        self._batch_of.clear()

    def _assign(self, watched: Mapping[ConfigKey, str]) -> None:
        """Drop keys no longer watched; put new ones in the last batch with room, or a new one."""
        for key in [k for k in self._batch_of if k not in watched]:
            del self._batch_of.pop(key).keys[key]
        for batch in [b for b in self._batches if not b.keys]:
            self._cancel(batch)
            self._batches.remove(batch)
        for key in watched:
            if key in self._batch_of:
                continue
            if not self._batches or len(self._batches[-1].keys) >= self._size:
                self._batches.append(_Batch())
            batch = self._batches[-1]
            batch.keys[key] = None
            self._batch_of[key] = batch

    def _send(self, batch: _Batch, asked: dict[ConfigKey, str], fresh: bool) -> None:
        self._cancel(batch)
        request = batch.request = _Request()
        batch.asked = asked
        probes = list(asked.items())

        async def run() -> None:
            try:
                request.changed = await self._listen(probes, fresh)
            except Exception as exc:  # the turn that collects it raises it
                request.error = exc

        request.task = self._supervisor.spawn(run, name="nacos-async-long-poll")

    @staticmethod
    def _cancel(batch: _Batch) -> None:
        request, batch.request, batch.asked = batch.request, None, None
        if request is not None and request.task is not None:
            request.task.cancel()
