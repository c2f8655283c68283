"""aiohttp integration: ``setup_nacos(app, settings)`` and the typed ``NACOS_CLIENT`` key.

app = web.Application()
live = LiveConfig("app.json", AppSettings)
setup_nacos(app, NacosSettings(), register=ServiceRegistration("orders", 8080), configs=[live])
...
async def handler(request):
    client = request.app[NACOS_CLIENT]
    settings = live.value
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web

from nacos_async.client import NacosClient
from nacos_async.integrations._common import LiveConfig, ServiceRegistration, start_nacos
from nacos_async.settings import NacosSettings

NACOS_CLIENT: web.AppKey[NacosClient] = web.AppKey("nacos_client", NacosClient)

__all__ = ["NACOS_CLIENT", "LiveConfig", "ServiceRegistration", "setup_nacos"]


def setup_nacos(
    app: web.Application,
    settings: NacosSettings | None = None,
    *,
    client: NacosClient | None = None,
    register: ServiceRegistration | None = None,
    configs: Sequence[LiveConfig[Any]] = (),
) -> None:
    """Start a client with the app (``cleanup_ctx``), register it, and close it on shutdown."""
    if client is not None and settings is not None:
        raise ValueError("pass settings or a client, not both")

    async def nacos_context(app: web.Application) -> AsyncIterator[None]:
        nacos = client or NacosClient.from_settings(settings or NacosSettings())
        async with AsyncExitStack() as stack:
            await start_nacos(stack, nacos, register, configs)
            app[NACOS_CLIENT] = nacos
            yield

    app.cleanup_ctx.append(nacos_context)
