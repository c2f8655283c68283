"""aiohttp integration: ``setup_nacos(app, settings)`` and the typed ``NACOS_CLIENT`` key.

app = web.Application()
live = LiveConfig("app.json", AppSettings)
setup_nacos(app, NacosSettings(), register=ServiceRegistration("orders", 8080), configs=[live],
            readiness_path="/ready")
...
async def handler(request):
    client = request.app[NACOS_CLIENT]
    settings = live.value

Under ``web.run_app``, SIGTERM/SIGINT deregister the app first, it serves ``drain`` seconds
more, then run_app's own graceful exit runs (``ServiceRegistration.drain``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web
from aiohttp.web_runner import GracefulExit

from nacos_async.client import NacosClient
from nacos_async.integrations._common import (
    LiveConfig,
    ServiceRegistration,
    readiness,
    start_nacos,
)
from nacos_async.settings import NacosSettings

NACOS_CLIENT: web.AppKey[NacosClient] = web.AppKey("nacos_client", NacosClient)
_LIVE_CONFIGS: web.AppKey[list[LiveConfig[Any]]] = web.AppKey("nacos_live_configs", list)

__all__ = ["NACOS_CLIENT", "LiveConfig", "ServiceRegistration", "nacos_readiness", "setup_nacos"]


async def nacos_readiness(request: web.Request) -> web.Response:
    """A readiness endpoint: 200 with ``client.health()`` when the client is healthy and every
    live config holds a good value, 503 saying why otherwise."""
    app = request.app
    live_configs: list[LiveConfig[Any]] = app.get(_LIVE_CONFIGS) or []
    status, body = await readiness(app.get(NACOS_CLIENT), live_configs)
    return web.json_response(body, status=status)


def _graceful_exit(_signum: int, _previous: Any) -> None:
    """What run_app does on SIGTERM/SIGINT: raise GracefulExit out of the event loop."""

    def raise_graceful_exit() -> None:
        raise GracefulExit()

    asyncio.get_running_loop().call_soon(raise_graceful_exit)


def setup_nacos(
    app: web.Application,
    settings: NacosSettings | None = None,
    *,
    client: NacosClient | None = None,
    register: ServiceRegistration | None = None,
    configs: Sequence[LiveConfig[Any]] = (),
    readiness_path: str | None = None,
) -> None:
    """Start a client with the app (``cleanup_ctx``), register it, and close it on shutdown;
    with ``readiness_path``, serve ``nacos_readiness`` there."""
    if client is not None and settings is not None:
        raise ValueError("pass settings or a client, not both")
    app[_LIVE_CONFIGS] = list(configs)
    if readiness_path is not None:
        app.router.add_get(readiness_path, nacos_readiness)

    async def nacos_context(app: web.Application) -> AsyncIterator[None]:
        nacos = client or NacosClient.from_settings(settings or NacosSettings())
        async with AsyncExitStack() as stack:
            await start_nacos(stack, nacos, register, configs, forward=_graceful_exit)
            app[NACOS_CLIENT] = nacos
            yield

    app.cleanup_ctx.append(nacos_context)
