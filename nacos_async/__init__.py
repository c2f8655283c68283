"""nacos-async: an asyncio Nacos client with TTL-scheduled token refresh and replay after 403."""

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
    NacosTimeoutError,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "NacosApiUnavailableError",
    "NacosAuthError",
    "NacosBadRequestError",
    "NacosClosedError",
    "NacosConflictError",
    "NacosConnectionError",
    "NacosError",
    "NacosNotFoundError",
    "NacosPermissionError",
    "NacosProtocolError",
    "NacosServerError",
    "NacosTimeoutError",
    "__version__",
]
