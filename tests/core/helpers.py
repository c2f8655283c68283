"""Helpers for core tests: a client wired to aioresponses with a fake clock."""

from __future__ import annotations

import json
import random
import re
from typing import Any

from aioresponses import CallbackResult

from nacos_async.client import NacosClient

BASE = "http://nacos.test:8848/nacos"


def url(path: str) -> re.Pattern[str]:
    """Match a path with any query string."""
    return re.compile("^" + re.escape(BASE + path) + r"(\?.*)?$")


def login_body(token: str = "tok-1", ttl: int = 18000, **extra: Any) -> dict[str, Any]:
    return {"accessToken": token, "tokenTtl": ttl, "globalAdmin": True, **extra}


def spring_error(status: int, message: str, path: str = "/nacos/v1/cs/configs") -> str:
    error = {403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone"}
    return json.dumps(
        {
            "timestamp": "2025-05-21T08:10:14.284+00:00",
            "status": status,
            "error": error.get(status, "Error"),
            "message": message,
            "path": path,
        }
    )


def forbidden(message: str) -> CallbackResult:
    return CallbackResult(
        status=403, body=spring_error(403, message), content_type="application/json"
    )


def make_client(**options: Any) -> NacosClient:
    options.setdefault("server_addr", "nacos.test:8848")
    options.setdefault("retry_backoff", 0.01)
    return NacosClient(rng=random.Random(0), **options)
