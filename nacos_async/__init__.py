"""nacos-async: an asyncio Nacos client with TTL-scheduled token refresh and replay after 403.

``import nacos_async`` loads the client and the errors; the rest (settings and pydantic, config,
naming, the worker helpers) loads on first use of a name, so that start-up costs little more than
aiohttp's own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nacos_async.client import NacosClient
from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosBadRequestError,
    NacosClosedError,
    NacosConfigParseError,
    NacosConflictError,
    NacosConnectionError,
    NacosError,
    NacosNotFoundError,
    NacosPermissionError,
    NacosProtocolError,
    NacosServerError,
    NacosServiceUnavailableError,
    NacosTimeoutError,
)
from nacos_async.events import ClientStats, Event
from nacos_async.health import ClientHealth

if TYPE_CHECKING:
    from nacos_async.config import ConfigChange, ConfigItem
    from nacos_async.naming import Instance
    from nacos_async.settings import NacosSettings
    from nacos_async.shutdown import run_worker, stop_on_signals

__version__ = "0.1.0.dev0"

_LAZY = {
    "ConfigChange": "nacos_async.config.models",
    "ConfigItem": "nacos_async.config.models",
    "Instance": "nacos_async.naming.models",
    "NacosSettings": "nacos_async.settings",
    "run_worker": "nacos_async.shutdown",
    "stop_on_signals": "nacos_async.shutdown",
}


def __getattr__(name: str) -> Any:
    """Load the lazy names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nacos_async' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ClientHealth",
    "ClientStats",
    "ConfigChange",
    "ConfigItem",
    "Event",
    "Instance",
    "NacosApiUnavailableError",
    "NacosAuthError",
    "NacosBadRequestError",
    "NacosClient",
    "NacosClosedError",
    "NacosConfigParseError",
    "NacosConflictError",
    "NacosConnectionError",
    "NacosError",
    "NacosNotFoundError",
    "NacosPermissionError",
    "NacosProtocolError",
    "NacosServerError",
    "NacosServiceUnavailableError",
    "NacosSettings",
    "NacosTimeoutError",
    "__version__",
    "run_worker",
    "stop_on_signals",
]
