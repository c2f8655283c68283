"""The gRPC fault switches under ``/__dev__/grpc-*`` (merged into the control routes).

Switches that wait for client acks run in the background: the HTTP answer says how many
connections they reached, ``GET /__dev__/stats`` tells the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from nacos_async.testing._grpc_side import GrpcSide
    from nacos_async.testing.server import NacosDevServer

GrpcAction = Callable[["GrpcSide", web.Request], Awaitable[object]]


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


async def _connect_reset(side: GrpcSide, request: web.Request) -> object:
    port = request.query.get("server_port")
    if port is not None and not port.isdigit():
        raise web.HTTPBadRequest(text="parameter 'server_port' must be a port number")
    server_ip = request.query.get("server_ip", "")
    side.server.spawn(side.connect_reset(server_ip, int(port) if port else None))
    return len(side.connections)


async def _client_detection(side: GrpcSide, request: web.Request) -> object:
    side.server.spawn(side.client_detection())
    return len(side.connections)


async def _end_streams(side: GrpcSide, request: web.Request) -> object:
    return side.end_streams()


async def _reset_streams(side: GrpcSide, request: web.Request) -> object:
    return side.reset_streams()


async def _close_connections(side: GrpcSide, request: web.Request) -> object:
    return side.close_connections()


async def _starting(side: GrpcSide, request: web.Request) -> object:
    seconds = _float(request, "seconds")
    if seconds < 0:
        raise web.HTTPBadRequest(text="parameter 'seconds' must not be negative")
    side.set_starting(seconds)
    return seconds


async def _drop_pushes(side: GrpcSide, request: web.Request) -> object:
    enabled = _flag(request, "enabled", True)
    side.drop_pushes(enabled)
    return enabled


async def _connections(side: GrpcSide, request: web.Request) -> object:
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


_GRPC_ACTIONS: dict[tuple[str, str], GrpcAction] = {
    ("POST", "grpc-connect-reset"): _connect_reset,
    ("POST", "grpc-client-detection"): _client_detection,
    ("POST", "grpc-end-streams"): _end_streams,
    ("POST", "grpc-reset-streams"): _reset_streams,
    ("POST", "grpc-close-connections"): _close_connections,
    ("POST", "grpc-starting"): _starting,
    ("POST", "grpc-drop-pushes"): _drop_pushes,
    ("GET", "grpc-connections"): _connections,
}


def _on_grpc(action: GrpcAction) -> Callable[[NacosDevServer, web.Request], Awaitable[object]]:
    async def run(server: NacosDevServer, request: web.Request) -> object:
        if not server.grpc_enabled:
            raise web.HTTPBadRequest(text="gRPC is off on this dev server")
        return await action(server.grpc, request)

    return run


ACTIONS = {key: _on_grpc(action) for key, action in _GRPC_ACTIONS.items()}
