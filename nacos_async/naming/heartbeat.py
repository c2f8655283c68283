"""One heartbeat scheduler for all of a client's ephemeral instances (HTTP only: over gRPC an
instance lives as long as its connection).

A single supervised loop keeps each instance's next due time; beats are scheduled from the
previous due time (not from "now"), so intervals do not drift. The interval of every beat is,
in this order: what the server's last beat answer named, the instance's
``preserved.heart.beat.interval`` metadata, the ``heartbeat_interval`` setting.
A beat that finds the instance gone (v1 20404, v3 21003) registers it again at once. A failed
beat (the request sender already retried it) marks the instance for re-registration at its next
beat, one interval later: no retry on top of the sender's retries.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nacos_async._concurrent import run_all
from nacos_async._runtime import Runtime
from nacos_async.background import LoopHandle
from nacos_async.errors import NacosError
from nacos_async.naming.models import InstanceSpec

MAX_SLEEP = 1.0  # re-check at least this often, so a newly added instance is never late


@dataclass(frozen=True, slots=True)
class Beat:
    """A heartbeat's answer: was the instance known, the interval the server named (if any),
    and whether the next beats may be light (no beat JSON)."""

    found: bool
    interval: float | None = None
    light: bool = False


@dataclass
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
        self._entries[spec.key] = _Entry(spec, self._clock.now() + every, every)
        if self._handle is None:
            self._handle = self._runtime.supervisor.start_loop("heartbeats", self.step)

    def remove(self, spec: InstanceSpec) -> None:
        self._entries.pop(spec.key, None)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._entries.clear()

    async def step(self) -> float:
        now = self._clock.now()
        due = [entry for entry in self._entries.values() if entry.due <= now]
        if due:
            await run_all(functools.partial(self._beat, entry, now) for entry in due)
        if not self._entries:
            return MAX_SLEEP
        next_due = min(entry.due for entry in self._entries.values())
        return max(0.0, min(MAX_SLEEP, next_due - self._clock.now()))

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
