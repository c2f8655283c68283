"""Helpers for the dev-server tests: an HTTP session and a login shortcut."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from nacos_async.testing import NacosDevServer


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session (no retries on reused connections: each request is one try)."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def login(
    http: aiohttp.ClientSession,
    server: NacosDevServer,
    username: str = "nacos",
    password: str = "nacos",
) -> str:
    """Log in through the v1 path (served by every flavor) and return the token."""
    async with http.post(
        f"{server.url}/v1/auth/users/login", data={"username": username, "password": password}
    ) as resp:
        assert resp.status == 200, await resp.text()
        token: str = (await resp.json())["accessToken"]
        return token
