"""The contract suite: the same tests against a real Nacos or, by default, the dev server.

Set ``NACOS_TEST_SERVER=host:8848`` (and ``NACOS_TEST_USERNAME`` / ``NACOS_TEST_PASSWORD`` when
auth is on) to run it against a real server; otherwise each test runs against the dev server in
every flavor. Tests here use only what a real server offers (no fault switches).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from nacos_async import NacosClient
from nacos_async.testing import NacosDevServer

REAL_SERVER = os.environ.get("NACOS_TEST_SERVER")


@dataclass(frozen=True)
class Target:
    """Where the contract tests point: an address and the credentials (None: auth off)."""

    address: str
    username: str | None
    password: str | None
    label: str

    def client(self, **options: object) -> NacosClient:
        credentials = (
            {"username": self.username, "password": self.password} if self.username else {}
        )
        return NacosClient(self.address, **credentials, **options)  # type: ignore[arg-type]


@pytest.fixture(params=["real"] if REAL_SERVER else ["2.x", "3.1", "3.2"])
async def target(request: pytest.FixtureRequest) -> AsyncIterator[Target]:
    if REAL_SERVER:
        yield Target(
            REAL_SERVER,
            os.environ.get("NACOS_TEST_USERNAME"),
            os.environ.get("NACOS_TEST_PASSWORD"),
            "real",
        )
        return
    async with NacosDevServer(flavor=request.param) as server:
        yield Target(server.address, "nacos", "nacos", f"dev-{request.param}")
