"""HTTP control endpoints under ``/__dev__/`` (a prefix no Nacos path uses).

They drive the fault switches from another process (the CLI server, a benchmark, a shell),
and are never subject to auth, latency or injected failures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from nacos_async.testing import _grpc_control
from nacos_async.testing._errors import json_response

if TYPE_CHECKING:
    from nacos_async.testing.server import NacosDevServer

Action = Callable[["NacosDevServer", web.Request], Awaitable[object]]


def _number(request: web.Request, name: str, default: str | None = None) -> float:
    raw = request.query.get(name, default)
    if raw is None:
        raise web.HTTPBadRequest(text=f"parameter {name!r} is required")
    try:
        return float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"parameter {name!r} must be a number") from None


async def _rotate(server: NacosDevServer, request: web.Request) -> object:
    server.rotate_secret(request.query.get("secret") or None)
    return True


async def _expire(server: NacosDevServer, request: web.Request) -> object:
    server.expire_tokens()
    return True


async def _ttl(server: NacosDevServer, request: web.Request) -> object:
    server.set_token_ttl(int(_number(request, "seconds")))
    return server.token_ttl


async def _clock(server: NacosDevServer, request: web.Request) -> object:
    server.skew_clock(_number(request, "seconds"))
    return server.clock_offset


async def _latency(server: NacosDevServer, request: web.Request) -> object:
    server.set_latency(_number(request, "seconds"))
    return server.faults.latency


async def _fail(server: NacosDevServer, request: web.Request) -> object:
    try:
        server.fail_next(
            int(_number(request, "count", "1")),
            int(_number(request, "status", "500")),
            body=request.query.get("body", ""),
            path=request.query.get("path") or None,
        )
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return True


async def _reset(server: NacosDevServer, request: web.Request) -> object:
    # Answer first: the connection carrying this request is one of those to reset.
    server.spawn(_later(server.reset_connections))
    return True


async def _pause(server: NacosDevServer, request: web.Request) -> object:
    """Refuse connections for ``seconds`` (required: a paused server cannot hear "resume")."""
    seconds = _number(request, "seconds")

    async def pause_then_resume() -> None:
        await asyncio.sleep(0.01)
        await server.pause()
        await asyncio.sleep(seconds)
        await server.resume()

    server.spawn(pause_then_resume())
    return True


async def _forget(server: NacosDevServer, request: web.Request) -> object:
    server.forget_instances()
    return True


async def _restart(server: NacosDevServer, request: web.Request) -> object:
    keep = request.query.get("keep_state", "true").lower() in ("true", "1", "yes")

    async def restart() -> None:
        await asyncio.sleep(0.01)
        await server.restart(keep_state=keep)

    server.spawn(restart())
    return True


async def _clear(server: NacosDevServer, request: web.Request) -> object:
    server.faults.clear()
    return True


async def _stats(server: NacosDevServer, request: web.Request) -> object:
    return server.stats.as_dict() | {"listeners": server.configs.listener_count}


async def _reset_stats(server: NacosDevServer, request: web.Request) -> object:
    server.stats.reset()
    return True


async def _later(action: Callable[[], object]) -> None:
    await asyncio.sleep(0.01)
    action()


ACTIONS: dict[tuple[str, str], Action] = {
    ("POST", "rotate-secret"): _rotate,
    ("POST", "expire-tokens"): _expire,
    ("POST", "token-ttl"): _ttl,
    ("POST", "clock"): _clock,
    ("POST", "latency"): _latency,
    ("POST", "fail-next"): _fail,
    ("POST", "reset-connections"): _reset,
    ("POST", "pause"): _pause,
    ("POST", "forget-instances"): _forget,
    ("POST", "restart"): _restart,
    ("POST", "clear-faults"): _clear,
    ("GET", "stats"): _stats,
    ("POST", "reset-stats"): _reset_stats,
    **_grpc_control.ACTIONS,
}


async def handle(server: NacosDevServer, request: web.Request) -> web.StreamResponse:
    """Dispatch ``/__dev__/<action>``; answers ``{"ok":true,"result":...}``."""
    name = request.path.removeprefix("/__dev__/").strip("/")
    action = ACTIONS.get((request.method, name))
    if action is None:
        known = sorted(f"{m} /__dev__/{n}" for m, n in ACTIONS)
        return json_response({"ok": False, "error": "unknown control", "known": known}, status=404)
    try:
        value = await action(server, request)
    except web.HTTPBadRequest as exc:
        return json_response({"ok": False, "error": exc.text}, status=400)
    return json_response({"ok": True, "result": value})
