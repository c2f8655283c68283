"""The one way to run background work: every task of a client, supervised.

- A loop is a ``step`` coroutine that returns how long to sleep before the next turn. A step that
  raises is reported (``background_error``) and retried with exponential backoff and jitter: a
  loop never dies of an error; it ends when cancelled, or when the supervisor stops.
- A one-off task (``spawn``) that raises is reported (``background_crash``, logged at ERROR with
  its traceback, kept in ``crashes``) and ends alone: no other task is touched.
- ``stop()`` works from any task, including one the supervisor runs (a listener calling
  ``client.close()``): it cancels and awaits every other task, bounded by a timeout, and leaves
  the calling task to finish its turn; a loop whose task called it ends after that turn.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

import anyio

from nacos_async.backoff import Backoff
from nacos_async.clock import Clock
from nacos_async.errors import NacosClosedError, NacosError
from nacos_async.events import Events

logger = logging.getLogger("nacos_async")

Step = Callable[[], Awaitable[float]]
State = Literal["new", "running", "stopping", "stopped"]


class LoopHandle:
    """Controls one loop: ``cancel()`` ends it, ``wake()`` ends its current sleep early."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures = 0
        self.turns = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._sleep_scope: anyio.CancelScope | None = None
        self._woken = False
        self._cancelled = False
        self._finished = False

    @property
    def running(self) -> bool:
        return not self._finished

    def cancel(self) -> None:
        """End the loop; from inside its own step, after the current turn."""
        self._cancelled = True
        task = self._task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    def wake(self) -> None:
        """Start the next turn now instead of at the end of the current sleep."""
        self._woken = True
        if self._sleep_scope is not None:
            self._sleep_scope.cancel()

    async def _sleep(self, clock: Clock, seconds: float) -> None:
        if self._woken:
            self._woken = False
            return
        with anyio.CancelScope() as scope:
            self._sleep_scope = scope
            try:
                await clock.sleep(seconds)
            finally:
                self._sleep_scope = None
        self._woken = False

    def __repr__(self) -> str:
        return f"LoopHandle({self.name!r}, turns={self.turns}, failures={self.failures})"


class Supervisor:
    """Owns the background tasks of one client; started and stopped by the client."""

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
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: set[LoopHandle] = set()
        self._state: State = "new"
        self.crashes: list[str] = []  # "name: error" of every task that died of an error

    @property
    def running(self) -> bool:
        return self._state == "running"

    @property
    def loops(self) -> list[LoopHandle]:
        """The loops still running."""
        return list(self._loops)

    def start(self) -> None:
        """Accept work from now on (on the running event loop)."""
        asyncio.get_running_loop()  # a RuntimeError outside a loop, as for any asyncio object
        if self._state == "new":
            self._state = "running"

    def spawn(
        self, fn: Callable[[], Coroutine[Any, Any, None]], *, name: str
    ) -> asyncio.Task[None]:
        """Run a one-off coroutine; an error it raises is reported, never propagated."""
        if self._state != "running":
            raise NacosClosedError(f"client is not running; cannot start background task {name!r}")
        task = asyncio.get_running_loop().create_task(self._guarded(fn, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start_loop(self, name: str, step: Step, *, initial_delay: float = 0.0) -> LoopHandle:
        """Run ``step`` until cancelled: sleep what it returns, back off when it raises."""
        handle = LoopHandle(name)
        handle._task = self.spawn(lambda: self._run_loop(handle, step, initial_delay), name=name)
        self._loops.add(handle)
        return handle

    async def stop(self, timeout: float = 5.0) -> None:
        """Cancel every task but the caller's and wait for them, at most ``timeout`` seconds."""
        if self._state in ("new", "stopped"):
            self._state = "stopped"
            return
        self._state = "stopping"
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        for task in others:
            task.cancel()
        if others:
            _, pending = await asyncio.wait(others, timeout=timeout)
            if pending:
                names = sorted(task.get_name() for task in pending)
                logger.warning("background tasks still running after %gs: %s", timeout, names)
        self._state = "stopped"

    async def _guarded(self, fn: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        try:
            await fn()
        except Exception as exc:
            error = str(exc) if isinstance(exc, NacosError) else repr(exc)
            self.crashes.append(f"{name}: {error}"[:300])
            self._events.emit("background_crash", task=name, error=error)
            logger.error("background task %s died", name, exc_info=True)

    async def _run_loop(self, handle: LoopHandle, step: Step, initial_delay: float) -> None:
        try:
            if initial_delay > 0:
                await handle._sleep(self._clock, initial_delay)
            while not handle._cancelled and self._state == "running":
                delay = await self._turn(handle, step)
                if handle._cancelled or self._state != "running":
                    break
                await handle._sleep(self._clock, delay)
        finally:
            handle._finished = True
            self._loops.discard(handle)

    async def _turn(self, handle: LoopHandle, step: Step) -> float:
        handle.turns += 1
        try:
            delay = await step()
        except Exception as exc:
            handle.failures += 1
            handle.last_error = str(exc) if isinstance(exc, NacosError) else repr(exc)
            delay = self._backoff.delay(handle.failures, self._rng)
            self._events.emit(
                "background_error",
                loop=handle.name,
                failures=handle.failures,
                retry_in=round(delay, 3),
                error=handle.last_error,
            )
            if not isinstance(exc, NacosError):
                logger.debug("background loop %s failed", handle.name, exc_info=True)
            return delay
        handle.failures = 0
        handle.last_error = None
        return max(0.0, float(delay))
