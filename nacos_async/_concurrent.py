"""Run several coroutines at once and report the first failure plainly (not an ExceptionGroup),
so callers can catch the typed ``NacosError`` they expect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import anyio


async def run_all(calls: Iterable[Callable[[], Awaitable[object]]]) -> None:
    """Run every call concurrently; when all are done, raise the first error, if any."""
    errors: list[Exception] = []

    async def guarded(call: Callable[[], Awaitable[object]]) -> None:
        try:
            await call()
        except Exception as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for call in calls:
            tg.start_soon(guarded, call)
    if errors:
        raise errors[0]
