"""FastAPI integration (extra ``fastapi``): a lifespan and dependencies.

Example::

    live = LiveConfig("app.json", AppSettings)
    nacos = NacosLifespan(register=ServiceRegistration("orders", 8000), configs=[live])
    app = FastAPI(lifespan=nacos)
    current_settings = live_config_dependency(live)

    @app.get("/")
    async def index(cfg: AppSettings = Depends(current_settings)) -> dict[str, str]: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

try:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "nacos_async.integrations.fastapi needs FastAPI: pip install 'nacos-async[fastapi]'"
    ) from exc
from pydantic import BaseModel

from nacos_async.client import NacosClient
from nacos_async.errors import NacosClosedError
from nacos_async.integrations._common import (
    LiveConfig,
    ServiceRegistration,
    readiness,
    start_nacos,
)
from nacos_async.settings import NacosSettings

M = TypeVar("M", bound=BaseModel)

__all__ = ["LiveConfig", "NacosLifespan", "ServiceRegistration"]


class NacosLifespan:
    """A FastAPI ``lifespan``: starts the client, loads live configs, registers the app.

    Under uvicorn (and gunicorn's uvicorn workers), SIGTERM/SIGINT deregister the app first,
    it serves ``ServiceRegistration.drain`` seconds more, then uvicorn's own shutdown runs.
    """

    def __init__(
        self,
        settings: NacosSettings | None = None,
        *,
        client: NacosClient | None = None,
        register: ServiceRegistration | None = None,
        configs: Sequence[LiveConfig[Any]] = (),
    ) -> None:
        if client is not None and settings is not None:
            raise ValueError("pass settings or a client, not both")
        self._settings = settings
        self._client = client
        self._register = register
        self._configs = list(configs)
        self._running: NacosClient | None = None

    @asynccontextmanager
    async def __call__(self, app: FastAPI) -> AsyncIterator[None]:
        client = self._client or NacosClient.from_settings(self._settings or NacosSettings())
        async with AsyncExitStack() as stack:
            await start_nacos(stack, client, self._register, self._configs)
            self._running = client
            try:
                yield
            finally:
                self._running = None

    async def readiness(self) -> JSONResponse:
        """A readiness endpoint (``app.get("/ready")(nacos.readiness)``): 200 with
        ``client.health()`` when healthy and every live config is good, 503 saying why."""
        status, body = await readiness(self._running, self._configs)
        return JSONResponse(body, status_code=status)

    def client(self) -> NacosClient:
        """Dependency: the running client."""
        if self._running is None:
            raise NacosClosedError("the Nacos client is not running (is the lifespan installed?)")
        return self._running


def live_config_dependency(live: LiveConfig[M]) -> Any:
    """Dependency returning the current model of ``live`` (same as ``live.value``)."""

    def current() -> M:
        return live.value

    return current
