"""The one way to run background work: supervised loops in the client's task group.

A loop is a ``step`` coroutine that returns how long to sleep before the next turn. A step that
raises is logged (``background_error``) and retried with exponential backoff and jitter: the loop
never dies, and it ends only when cancelled (its own handle, or the client closing).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio
from anyio.abc import TaskGroup

from nacos_async.backoff import Backoff
from nacos_async.clock import Clock
from nacos_async.errors import NacosClosedError, NacosError
from nacos_async.events import Events

logger = logging.getLogger("nacos_async")

Step = Callable[[], Awaitable[float]]


class LoopHandle:
    """Stops one loop; ``failures`` counts the step's consecutive failures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures = 0
        self.turns = 0
        self._scope: anyio.CancelScope | None = None
        self._cancelled = False
        self.finished = anyio.Event()

    def cancel(self) -> None:
        self._cancelled = True
        if self._scope is not None:
            self._scope.cancel()

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    def __repr__(self) -> str:
        return f"LoopHandle({self.name!r}, turns={self.turns}, failures={self.failures})"


class Supervisor:
    """Owns the task group of one client; started and stopped by the client."""

    def __init__(
        self,
        *,
        clock: Clock,
        events: Events,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self._events = events
        self._backoff = backoff or Backoff(base=0.5, cap=30.0)
        self._rng = rng or random.Random()
        self._task_group: TaskGroup | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop = anyio.Event()

    @property
    def running(self) -> bool:
        return self._task_group is not None

    async def start(self) -> None:
        """Open the task group in a task of its own, so start and close may be different tasks."""
        if self._runner is not None:
            return
        ready = anyio.Event()

        async def run() -> None:
            async with anyio.create_task_group() as tg:
                self._task_group = tg
                ready.set()
                await self._stop.wait()
                tg.cancel_scope.cancel()
            self._task_group = None

        self._runner = asyncio.get_running_loop().create_task(run(), name="nacos-async-supervisor")
        await ready.wait()

    async def stop(self) -> None:
        """Cancel every loop and task, and wait until they are gone."""
        runner = self._runner
        if runner is None:
            return
        self._stop.set()
        await runner

    def spawn(
        self, fn: Callable[[], Coroutine[Any, Any, None]], *, name: str | None = None
    ) -> None:
        """Run a one-off coroutine; it must handle its own errors."""
        tg = self._require()
        tg.start_soon(fn, name=name)

    def start_loop(self, name: str, step: Step, *, initial_delay: float = 0.0) -> LoopHandle:
        """Run ``step`` forever: sleep what it returns, back off when it raises."""
        handle = LoopHandle(name)
        self._require().start_soon(self._run_loop, handle, step, initial_delay, name=name)
        return handle

    def _require(self) -> TaskGroup:
        if self._task_group is None:
            raise NacosClosedError("client is not running (use `async with` or `await start()`)")
        return self._task_group

    async def _run_loop(self, handle: LoopHandle, step: Step, initial_delay: float) -> None:
        try:
            with anyio.CancelScope() as scope:
                handle._scope = scope
                if handle._cancelled:
                    scope.cancel()
                if initial_delay > 0:
                    await self._clock.sleep(initial_delay)
                while True:
                    await self._clock.sleep(await self._turn(handle, step))
        finally:
            handle.finished.set()

    async def _turn(self, handle: LoopHandle, step: Step) -> float:
        handle.turns += 1
        try:
            delay = await step()
        except Exception as exc:
            handle.failures += 1
            delay = self._backoff.delay(handle.failures, self._rng)
            self._events.emit(
                "background_error",
                loop=handle.name,
                failures=handle.failures,
                retry_in=round(delay, 3),
                error=str(exc) if isinstance(exc, NacosError) else repr(exc),
            )
            if not isinstance(exc, NacosError):
                logger.debug("background loop %s failed", handle.name, exc_info=True)
            return delay
        handle.failures = 0
        return max(0.0, float(delay))
