"""nacos-async: an asyncio Nacos client with TTL-scheduled token refresh and replay after 403."""

from nacos_async.client import NacosClient
from nacos_async.config import ConfigChange, ConfigItem, NacosConfigParseError
from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosBadRequestError,
    NacosClosedError,
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
from nacos_async.naming import Instance
from nacos_async.settings import NacosSettings
from nacos_async.shutdown import run_worker, stop_on_signals

__version__ = "0.1.0.dev0"

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
