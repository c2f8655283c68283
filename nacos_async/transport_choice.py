"""Which transport a client's config and naming use: decided once, when the client starts.

``transport="auto"`` (the default) picks gRPC when the ``[grpc]`` extra (grpclib) is installed
and the current server's gRPC port (its port + ``grpc_port_offset``) answers ``ServerCheck``
within a short timeout; HTTP otherwise. ``"http"`` and ``"grpc"`` pin it. A client given its own
HTTP transport (a mock) stays on HTTP under ``auto``: the network is replaced.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Literal

from nacos_async.servers import ServerAddress
from nacos_async.tls import client_context

if TYPE_CHECKING:
    from nacos_async.settings import NacosSettings

Transport = Literal["http", "grpc"]
PROBE_TIMEOUT = 2.0  # the longest a start waits for a gRPC answer before choosing HTTP
EXTRA_HINT = "pip install 'nacos-async[grpc]'"


def grpc_installed() -> bool:
    """Whether grpclib (the ``[grpc]`` extra) can be imported."""
    return importlib.util.find_spec("grpclib") is not None


def check_grpc_available(settings: NacosSettings) -> None:
    """``ValueError`` naming the extra when ``transport="grpc"`` cannot work here."""
    if settings.transport == "grpc" and not grpc_installed():
        raise ValueError(
            f"transport='grpc' needs the gRPC extra, which is not installed: {EXTRA_HINT}"
        )


async def choose_transport(
    settings: NacosSettings, server: ServerAddress, *, http_only: bool = False
) -> tuple[Transport, str]:
    """The transport to use and why (for the log and ``client.health()``)."""
    if settings.transport == "http":
        return "http", "transport='http'"
    if settings.transport == "grpc":
        return "grpc", "transport='grpc'"
    if http_only:
        return "http", "a custom HTTP transport replaces the network"
    if not grpc_installed():
        return "http", f"the gRPC extra is not installed ({EXTRA_HINT})"
    from nacos_async.grpc.connection import server_check

    port = server.port + settings.grpc_port_offset
    where = f"{server.host}:{port}"
    if port > 65535:
        return "http", f"gRPC port {port} out of range"
    tls = client_context(settings, alpn=("h2",)) if server.scheme == "https" else None
    timeout = min(PROBE_TIMEOUT, settings.request_timeout)
    if await server_check(server, port, tls=tls, timeout=timeout):
        return "grpc", f"the gRPC port {where} answered"
    return "http", f"no gRPC answer from {where} within {timeout:g}s"
