"""One heartbeat scheduler for all of a client's ephemeral instances.

A single supervised loop keeps each instance's next due time; beats are scheduled from the
previous due time (not from "now"), so intervals do not drift. A beat that finds the instance
gone (v1 20404, v3 21003) registers it again at once; a failed beat marks the instance for
re-registration and retries it sooner, with backoff, without holding back the others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import anyio

from nacos_async.background import LoopHandle, Supervisor
from nacos_async.backoff import Backoff
from nacos_async.clock import Clock
from nacos_async.errors import NacosError
from nacos_async.events import Events
from nacos_async.naming._protocol import InstanceSpec, NamingProtocol

MAX_SLEEP = 1.0  # re-check at least this often, so a newly added instance is never late


@dataclass
class _Entry:
    spec: InstanceSpec
    due: float
    interval: float
    failures: int = 0
    needs_register: bool = False
    light: bool = False  # the server allows beats without the beat JSON (20404 if it forgot)


class HeartbeatScheduler:
    """Beats every registered ephemeral instance at its interval."""

    def __init__(
        self,
        protocol: NamingProtocol,
        *,
        supervisor: Supervisor,
        clock: Clock,
        events: Events,
        interval: float,
        rng: random.Random | None = None,
    ) -> None:
        self._protocol = protocol
        self._supervisor = supervisor
        self._clock = clock
        self._events = events
        self._interval = interval
        self._rng = rng or random.Random()
        self._backoff = Backoff(base=0.5, cap=interval)
        self._entries: dict[tuple[str, str, str, str, int], _Entry] = {}
        self._handle: LoopHandle | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, spec: InstanceSpec, *, interval: float | None = None) -> None:
        every = interval or self._interval
        self._entries[spec.key] = _Entry(spec, self._clock.now() + every, every)
        if self._handle is None:
            self._handle = self._supervisor.start_loop("heartbeats", self.step)

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
            async with anyio.create_task_group() as tg:
                for entry in due:
                    tg.start_soon(self._beat, entry, now)
        if not self._entries:
            return MAX_SLEEP
        next_due = min(entry.due for entry in self._entries.values())
        return max(0.0, min(MAX_SLEEP, next_due - self._clock.now()))

    async def _beat(self, entry: _Entry, now: float) -> None:
        spec = entry.spec
        try:
            if entry.needs_register:
                await self._protocol.register(spec)
                self._events.emit("reregister", service=spec.service, reason="after failure")
                entry.needs_register = False
            beat = await self._protocol.beat(spec, light=entry.light)
            if not beat.found:
                await self._protocol.register(spec)
                self._events.emit("reregister", service=spec.service, reason="unknown to server")
        except NacosError as exc:
            entry.failures += 1
            entry.needs_register = True
            entry.light = False
            entry.due = self._clock.now() + min(
                entry.interval, self._backoff.delay(entry.failures, self._rng)
            )
            self._events.emit(
                "heartbeat_failed", service=spec.service, failures=entry.failures, error=str(exc)
            )
            return
        entry.failures = 0
        entry.interval = beat.interval
        entry.light = beat.light and beat.found
        entry.due += entry.interval
        if entry.due <= now:  # far behind (the loop was starved): realign instead of bursting
            entry.due = now + entry.interval
        self._events.emit("heartbeat", service=spec.service)
