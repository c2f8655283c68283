"""The gRPC fault switches under ``/__dev__/grpc-*`` (merged into the control routes).

Switches that wait for client acks run in the background: the HTTP answer says how many
connections they reached, ``GET /__dev__/stats`` tells the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from nacos_async.testing._grpc_side import GrpcSide

Spawn = Callable[[Coroutine[Any, Any, Any]], None]
"""Runs a task owned by the server (outliving a request, cancelled on close)."""
GrpcAction = Callable[["GrpcSide", Spawn, web.Request], Awaitable[object]]


def _float(request: web.Request, name: str) -> float:
    raw = request.query.get(name)
    if raw is None:
        raise web.HTTPBadRequest(text=f"parameter {name!r} is required")
    try:
        return float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"parameter {name!r} must be a number") from None


def _flag(request: web.Request, name: str, default: bool) -> bool:
    raw = request.query.get(name)
    return default if raw is None else raw.lower() in ("true", "1", "yes", "on")


async def _connect_reset(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    port = request.query.get("server_port")
    if port is not None and not port.isdigit():
        raise web.HTTPBadRequest(text="parameter 'server_port' must be a port number")
    server_ip = request.query.get("server_ip", "")
    spawn(side.connect_reset(server_ip, int(port) if port else None))
    return len(side.connections)


async def _client_detection(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    spawn(side.client_detection())
    return len(side.connections)


async def _end_streams(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    return side.end_streams()


async def _reset_streams(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    return side.reset_streams()


async def _close_connections(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    return side.close_connections()


async def _starting(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    seconds = _float(request, "seconds")
    if seconds < 0:
        raise web.HTTPBadRequest(text="parameter 'seconds' must not be negative")
    side.set_starting(seconds)
    return seconds


async def _drop_pushes(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    enabled = _flag(request, "enabled", True)
    side.drop_pushes(enabled)
    return enabled


async def _connections(side: GrpcSide, spawn: Spawn, request: web.Request) -> object:
    return [
        {
            "connectionId": c.id,
            "clientIp": c.client_ip,
            "labels": c.labels,
            "listens": len(c.listens),
            "subscriptions": len(c.subscriptions),
            "instances": sum(len(v) for v in c.published.values()),
        }
        for c in side.connections
    ]


ACTIONS: dict[tuple[str, str], GrpcAction] = {
    ("POST", "grpc-connect-reset"): _connect_reset,
    ("POST", "grpc-client-detection"): _client_detection,
    ("POST", "grpc-end-streams"): _end_streams,
    ("POST", "grpc-reset-streams"): _reset_streams,
    ("POST", "grpc-close-connections"): _close_connections,
    ("POST", "grpc-starting"): _starting,
    ("POST", "grpc-drop-pushes"): _drop_pushes,
    ("GET", "grpc-connections"): _connections,
}
