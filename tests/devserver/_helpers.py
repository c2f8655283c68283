"""Shared helpers for the dev-server tests."""

from __future__ import annotations

import aiohttp

from nacos_async.testing import NacosDevServer


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
