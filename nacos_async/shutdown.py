"""SIGTERM and SIGINT as an orderly shutdown, for asyncio workers and long-running commands.

Kubernetes, systemd and docker stop a process with SIGTERM, whose default action kills Python
at once: no ``async with NacosClient`` block exits, so the instances it registered stay listed
as healthy until the server expires them, and SIGINT ends in a ``KeyboardInterrupt``
traceback. Here the first signal cancels the work instead, so that every ``async with`` closes
(the client deregisters its instances, stops its watches and closes its session) and the
program goes on after the block; a second signal, or a shutdown running past
``shutdown_timeout``, ends the process at once with status 1.

Web servers (uvicorn, gunicorn's uvicorn workers, aiohttp's ``run_app``) handle these signals
themselves and run the app's shutdown: there, use the FastAPI or aiohttp integration instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Sequence
from types import FrameType, TracebackType
from typing import Any, NoReturn, Self

logger = logging.getLogger("nacos_async")

SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
EXIT_FORCED = 1
_Handler = Callable[[int, FrameType | None], Any] | int | None


class stop_on_signals:
    """Cancel the body of ``async with`` on SIGTERM or SIGINT; the block then ends quietly.

    ``received`` tells which signal stopped it (None if the body ended by itself). Signal
    handlers can only be set from the main thread; elsewhere the block just runs.
    """

    def __init__(
        self, *, shutdown_timeout: float = 10.0, signals: Sequence[signal.Signals] = SIGNALS
    ) -> None:
        if not _positive_number(shutdown_timeout):
            raise ValueError(f"shutdown_timeout must be > 0 seconds, got {shutdown_timeout!r}")
        self.shutdown_timeout = shutdown_timeout
        self.signals = tuple(signals)
        self.received: signal.Signals | None = None
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancelling = 0
        self._previous: dict[signal.Signals, _Handler] = {}
        self._deadline: threading.Timer | None = None

    async def __aenter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._task is None:
            raise RuntimeError("stop_on_signals() must run inside an asyncio task")
        self._cancelling = self._task.cancelling()
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                self._install(sig)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        for sig in list(self._previous):
            self._restore(sig)
        if self._deadline is not None:
            self._deadline.cancel()
        if self.received is None or self._task is None:
            return False
        # Balance our cancel(); swallow the CancelledError only if it was ours alone.
        return self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError

    def _install(self, sig: signal.Signals) -> None:
        assert self._loop is not None
        self._previous[sig] = signal.getsignal(sig)
        try:
            self._loop.add_signal_handler(sig, self._on_signal, sig)
        except NotImplementedError:  # Windows event loops: a plain handler, then the loop
            loop = self._loop
            signal.signal(sig, lambda signum, _: loop.call_soon_threadsafe(self._on_signal, signum))

    def _restore(self, sig: signal.Signals) -> None:
        assert self._loop is not None
        previous = self._previous.pop(sig)
        with contextlib.suppress(NotImplementedError):
            self._loop.remove_signal_handler(sig)
        signal.signal(sig, previous if previous is not None else signal.SIG_DFL)

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            _force_exit(f"{name} received again during shutdown")
        assert self._task is not None
        self.received = signal.Signals(signum)
        logger.info("%s received: shutting down (send it again to exit at once)", name)
        self._task.cancel(f"{name} received")
        timeout = self.shutdown_timeout
        self._deadline = threading.Timer(
            timeout, _force_exit, (f"shutdown still running after {timeout:g} s",)
        )
        self._deadline.daemon = True
        self._deadline.start()


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _force_exit(why: str) -> NoReturn:
    """End the process now: the orderly shutdown hangs, or the user insists.

    Written to stderr rather than logged: the library's logger stays silent unless the app
    configures logging, and this line explains an exit status of 1.
    """
    print(f"nacos-async: {why}: exiting with status {EXIT_FORCED}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(EXIT_FORCED)


def run_worker(
    main: Coroutine[Any, Any, object],
    *,
    shutdown_timeout: float = 10.0,
    signals: Sequence[signal.Signals] = SIGNALS,
) -> None:
    """``asyncio.run(main)``, where SIGTERM and SIGINT stop ``main`` in order.

    On the first signal ``main`` is cancelled, its ``async with`` blocks close (a
    ``NacosClient`` deregisters its instances), and ``run_worker`` returns, so the process exits
    with status 0 and no traceback. A second signal, or more than ``shutdown_timeout`` seconds
    of shutdown, ends the process at once with status 1. Exceptions from ``main`` propagate.
    """
    try:
        stopper = stop_on_signals(shutdown_timeout=shutdown_timeout, signals=signals)
    except ValueError:
        main.close()  # never awaited: no "coroutine was never awaited" warning on top
        raise

    async def supervised() -> None:
        async with stopper:
            await main

    asyncio.run(supervised())
