"""HTTP control endpoints under ``/__dev__/`` (a prefix no Nacos path uses).

They drive the fault switches from another process (the CLI server, a benchmark, a shell),
and are never subject to auth, latency or injected failures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from nacos_async.testing import _grpc_control
from nacos_async.testing._errors import json_response
from nacos_async.testing._state import DevState

if TYPE_CHECKING:
    from nacos_async.testing._grpc_side import GrpcSide


class ServerControl(Protocol):
    """What the controls may do beyond the state: ``NacosDevServer``'s lifecycle actions."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None: ...
    def reset_connections(self) -> int: ...
    async def pause(self) -> None: ...
    async def resume(self) -> None: ...
    async def restart(self, keep_state: bool = True) -> None: ...
    @property
    def grpc_enabled(self) -> bool: ...
    @property
    def grpc(self) -> GrpcSide: ...


Action = Callable[[DevState, ServerControl, web.Request], Awaitable[object]]


def _number(request: web.Request, name: str, default: str | None = None) -> float:
    raw = request.query.get(name, default)
    if raw is None:
        raise web.HTTPBadRequest(text=f"parameter {name!r} is required")
    try:
        return float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"parameter {name!r} must be a number") from None


async def _rotate(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.rotate_secret(request.query.get("secret") or None)
    return True


async def _expire(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.expire_tokens()
    return True


async def _ttl(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.set_token_ttl(int(_number(request, "seconds")))
    return state.token_ttl


async def _clock(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.skew_clock(_number(request, "seconds"))
    return state.clock_offset


async def _latency(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.set_latency(_number(request, "seconds"))
    return state.faults.latency


async def _fail(state: DevState, server: ServerControl, request: web.Request) -> object:
    try:
        state.faults.add_failures(
            int(_number(request, "count", "1")),
            int(_number(request, "status", "500")),
            body=request.query.get("body", ""),
            path=request.query.get("path") or None,
        )
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return True


async def _bomb(state: DevState, server: ServerControl, request: web.Request) -> object:
    try:
        state.faults.add_gzip_bombs(
            int(_number(request, "count", "1")),
            int(_number(request, "inflated", str(64 << 20))),
            path=request.query.get("path") or None,
        )
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return True


async def _reset(state: DevState, server: ServerControl, request: web.Request) -> object:
    # Answer first: the connection carrying this request is one of those to reset.
    server.spawn(_later(server.reset_connections))
    return True


async def _pause(state: DevState, server: ServerControl, request: web.Request) -> object:
    """Refuse connections for ``seconds`` (required: a paused server cannot hear "resume")."""
    seconds = _number(request, "seconds")

    async def pause_then_resume() -> None:
        await asyncio.sleep(0.01)
        await server.pause()
        await asyncio.sleep(seconds)
        await server.resume()

    server.spawn(pause_then_resume())
    return True


async def _forget(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.forget_instances()
    return True


async def _restart(state: DevState, server: ServerControl, request: web.Request) -> object:
    keep = request.query.get("keep_state", "true").lower() in ("true", "1", "yes")

    async def restart() -> None:
        await asyncio.sleep(0.01)
        await server.restart(keep_state=keep)

    server.spawn(restart())
    return True


async def _clear(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.faults.clear()
    return True


async def _stats(state: DevState, server: ServerControl, request: web.Request) -> object:
    return state.stats.as_dict() | {"listeners": state.configs.listener_count}


async def _reset_stats(state: DevState, server: ServerControl, request: web.Request) -> object:
    state.stats.reset()
    return True


async def _later(action: Callable[[], object]) -> None:
    await asyncio.sleep(0.01)
    action()


def _on_grpc(action: _grpc_control.GrpcAction) -> Action:
    async def run(state: DevState, server: ServerControl, request: web.Request) -> object:
        if not server.grpc_enabled:
            raise web.HTTPBadRequest(text="gRPC is off on this dev server")
        return await action(server.grpc, server.spawn, request)

    return run


ACTIONS: dict[tuple[str, str], Action] = {
    ("POST", "rotate-secret"): _rotate,
    ("POST", "expire-tokens"): _expire,
    ("POST", "token-ttl"): _ttl,
    ("POST", "clock"): _clock,
    ("POST", "latency"): _latency,
    ("POST", "fail-next"): _fail,
    ("POST", "gzip-bomb"): _bomb,
    ("POST", "reset-connections"): _reset,
    ("POST", "pause"): _pause,
    ("POST", "forget-instances"): _forget,
    ("POST", "restart"): _restart,
    ("POST", "clear-faults"): _clear,
    ("GET", "stats"): _stats,
    ("POST", "reset-stats"): _reset_stats,
    **{key: _on_grpc(action) for key, action in _grpc_control.ACTIONS.items()},
}


async def handle(
    state: DevState, server: ServerControl, request: web.Request
) -> web.StreamResponse:
    """Dispatch ``/__dev__/<action>``; answers ``{"ok":true,"result":...}``."""
    name = request.path.removeprefix("/__dev__/").strip("/")
    action = ACTIONS.get((request.method, name))
    if action is None:
        known = sorted(f"{m} /__dev__/{n}" for m, n in ACTIONS)
        return json_response({"ok": False, "error": "unknown control", "known": known}, status=404)
    try:
        value = await action(state, server, request)
    except web.HTTPBadRequest as exc:
        return json_response({"ok": False, "error": exc.text}, status=400)
    return json_response({"ok": True, "result": value})
