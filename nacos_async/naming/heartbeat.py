"""One heartbeat scheduler for all of a client's ephemeral instances (HTTP only: over gRPC an
instance lives as long as its connection).

A single supervised loop keeps each instance's next due time in a heap and sleeps until the
earliest (an added instance wakes it), so that a turn costs what its due beats cost, not a scan
of every instance; beats are scheduled from the previous due time (not from "now"), so
intervals do not drift. A turn also sends the beats due within the next ``EARLY`` (at most 1 %
of their interval) with the ones due now: waking an idle loop costs more than a beat's own
work, and with many instances beats come due a few milliseconds apart.

The interval of every beat is, in this order: what the server's last beat answer named, the
instance's ``preserved.heart.beat.interval`` metadata, the ``heartbeat_interval`` setting.
A beat that finds the instance gone (v1 20404, v3 21003) registers it again at once. A failed
beat (the request sender already retried it) marks the instance for re-registration at its next
beat, one interval later: no retry on top of the sender's retries.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from nacos_async._runtime import Runtime
from nacos_async.background import LoopHandle
from nacos_async.errors import NacosError
from nacos_async.naming.models import InstanceSpec

IDLE = 3600.0  # the sleep with nothing to beat (an added instance wakes the loop)
EARLY = 0.05  # seconds a beat may go out before its due time, with others due now
EARLY_SHARE = 0.01  # ... and at most this share of its interval


@dataclass(frozen=True, slots=True)
class Beat:
    """A heartbeat's answer: was the instance known, the interval the server named (if any),
    and whether the next beats may be light (no beat JSON)."""

    found: bool
    interval: float | None = None
    light: bool = False


@dataclass(eq=False, slots=True)
class _Entry:
    spec: InstanceSpec
    due: float
    interval: float
    failures: int = 0
    last_error: str | None = None
    needs_register: bool = False
    light: bool = False  # the server allows beats without the beat JSON (20404 if it forgot)


class HeartbeatScheduler:
    """Beats every registered ephemeral instance at its interval."""

    def __init__(
        self,
        register: Callable[[InstanceSpec], Awaitable[None]],
        beat: Callable[[InstanceSpec, bool], Awaitable[Beat]],
        runtime: Runtime,
        *,
        interval: float,
    ) -> None:
        self._register = register
        self._beat_once = beat
        self._runtime = runtime
        self._clock = runtime.clock
        self._events = runtime.events
        self._interval = interval
        self._entries: dict[tuple[str, str, str, str, int], _Entry] = {}
        self._due: list[tuple[float, int, _Entry]] = []  # heap; stale items are skipped
        self._order = itertools.count()  # ties broken by insertion, never by comparing entries
        self._handle: LoopHandle | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def has(self, spec: InstanceSpec) -> bool:
        return spec.key in self._entries

    def health(self) -> dict[str, Any]:
        failing = {
            f"{e.spec.group}@@{e.spec.service} {e.spec.ip}:{e.spec.port}": e.last_error or ""
            for e in self._entries.values()
            if e.failures
        }
        return {
            "heartbeating": len(self._entries),
            "failing_heartbeats": failing,
            "problems": [f"heartbeats failing for {len(failing)} instance(s)"] if failing else [],
        }

    def add(self, spec: InstanceSpec) -> None:
        every = spec.beat_interval or self._interval
        entry = self._entries[spec.key] = _Entry(spec, self._clock.now() + every, every)
        self._push(entry)
        if self._handle is None:
            self._handle = self._runtime.supervisor.start_loop("heartbeats", self.step)
        else:
            self._handle.wake()  # it may sleep past this entry's first beat

    def remove(self, spec: InstanceSpec) -> None:
        self._entries.pop(spec.key, None)  # its heap item is dropped when it comes up

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._entries.clear()
        self._due.clear()

    async def step(self) -> float:
        now = self._clock.now()
        due = self._pop_due(now)
        try:
            if len(due) == 1:
                await self._beat(due[0], now)
            elif due:
                await _all(self._beat(entry, now) for entry in due)
        finally:
            for entry in due:  # back in the heap at their next due time, whatever happened
                if self._entries.get(entry.spec.key) is entry:
                    self._push(entry)
        return self._sleep_until_next()

    def _push(self, entry: _Entry) -> None:
        heapq.heappush(self._due, (entry.due, next(self._order), entry))

    def _pop_due(self, now: float) -> list[_Entry]:
        """The current entries due by ``now``, or soon enough to go with them (``EARLY``),
        taken off the heap (each once)."""
        heap, due = self._due, []
        while heap and heap[0][0] <= now + EARLY:
            when, _, entry = heap[0]
            if self._entries.get(entry.spec.key) is not entry or entry.due != when:
                heapq.heappop(heap)  # removed or replaced since it was pushed
            elif when <= now + entry.interval * EARLY_SHARE:
                due.append(entry)
                heapq.heappop(heap)
            else:
                break  # a short interval, not due that early: it waits (and those after it)
        return due

    def _sleep_until_next(self) -> float:
        heap = self._due
        while heap and self._entries.get(heap[0][2].spec.key) is not heap[0][2]:
            heapq.heappop(heap)  # removed or replaced since it was pushed
        if not heap:
            return IDLE
        return max(0.0, heap[0][0] - self._clock.now())

    async def _beat(self, entry: _Entry, now: float) -> None:
        spec = entry.spec
        try:
            if entry.needs_register:
                await self._register(spec)
                self._events.emit("reregister", service=spec.service, reason="after failure")
                entry.needs_register = False
            beat = await self._beat_once(spec, entry.light)
            if not beat.found:
                await self._register(spec)
                self._events.emit("reregister", service=spec.service, reason="unknown to server")
        except NacosError as exc:
            entry.failures += 1
            entry.last_error = str(exc)[:300]
            entry.needs_register = True
            entry.light = False
            self._events.emit(
                "heartbeat_failed", service=spec.service, failures=entry.failures, error=str(exc)
            )
        else:
            entry.failures = 0
            entry.last_error = None
            entry.interval = beat.interval or spec.beat_interval or self._interval
            entry.light = beat.light and beat.found
            self._events.emit("heartbeat", service=spec.service)
        entry.due += entry.interval
        if entry.due <= now:  # far behind (the loop was starved): realign instead of bursting
            entry.due = now + entry.interval


async def _all(beats: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run beats at once; each handles its own errors, so the first other one is raised after
    all have ended (as ``run_all``, without a task group per turn)."""
    outcomes = await asyncio.gather(*beats, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
