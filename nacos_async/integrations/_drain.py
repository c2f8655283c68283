"""Deregister first, then drain: the grace period web apps need between leaving the registry and
stopping to serve.

A web server stops listening as soon as it gets SIGTERM, and only then runs the app's shutdown,
where deregistering comes too late: callers keep routing to the instance until they notice. So
at the first SIGTERM/SIGINT the instance is deregistered at once, the app keeps serving for
``drain`` seconds (callers' caches and watches catch up), and only then is the signal handed to
the web server, which shuts down as it would have. A second signal skips the rest of the drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger("nacos_async")

SIGNALS = (signal.SIGTERM, signal.SIGINT)
Forward = Callable[[int, Any], None]  # (signal, the handler it had before us)


class DrainOnSignal:
    """Intercepts SIGTERM/SIGINT for one app: deregister, wait ``drain`` s, then ``forward``."""

    def __init__(
        self,
        deregister: Callable[[], Awaitable[None]],
        drain: float,
        *,
        forward: Forward | None = None,
    ) -> None:
        self._deregister = deregister
        self._drain = drain
        self._forward = forward or self._to_previous_handler
        self._previous: dict[int, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def install(self) -> bool:
        """Intercept the signals (main thread only); False when they cannot be intercepted."""
        if threading.current_thread() is not threading.main_thread():
            return False
        self._loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            self._previous[sig] = signal.getsignal(sig)
            try:
                self._loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):
                self._previous.pop(sig)
        return bool(self._previous)

    def uninstall(self) -> None:
        """Give the signals back (the app shuts down by other means)."""
        for sig, previous in list(self._previous.items()):
            self._restore(sig, previous)
        self._previous.clear()

    def _restore(self, sig: int, previous: Any) -> None:
        if self._loop is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.remove_signal_handler(sig)
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)

    def _on_signal(self, signum: int) -> None:
        if self._task is not None:  # a second signal: no more waiting
            self._task.cancel()
            return
        assert self._loop is not None
        self._task = self._loop.create_task(self._drain_then_forward(signum), name="nacos-drain")

    async def _drain_then_forward(self, signum: int) -> None:
        name = signal.Signals(signum).name
        try:
            logger.warning("%s: deregistered, serving %gs more before stopping", name, self._drain)
            await self._deregister()
            await asyncio.sleep(self._drain)
        except asyncio.CancelledError:
            logger.warning("%s received again: stopping without the rest of the drain", name)
        finally:
            previous = self._previous.get(signum)
            self.uninstall()
            self._forward(signum, previous)

    @staticmethod
    def _to_previous_handler(signum: int, previous: Any) -> None:
        """Hand the signal to whoever had it before (uvicorn's ``handle_exit``), or re-raise it
        with the default action."""
        if callable(previous):
            previous(signum, None)
        else:
            signal.raise_signal(signum)
