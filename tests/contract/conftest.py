"""The contract suite: the same tests against a real Nacos or, by default, the dev server.

Set ``NACOS_TEST_SERVER=host:8848`` (and ``NACOS_TEST_USERNAME`` / ``NACOS_TEST_PASSWORD`` when
auth is on) to run it against a real server; otherwise each test runs against the dev server in
every flavor. Tests here use only what a real server offers (no fault switches).

Two more variables describe the real server for the tests that call without credentials or
across nodes: ``NACOS_TEST_CLIENT_AUTH=on|off`` (its ``nacos.core.auth.enabled``; without it those
tests are skipped) and a ``NACOS_TEST_SERVER`` list of two or more nodes of one cluster.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from nacos_async import NacosClient
from nacos_async.testing import FLAVORS, Flavor, NacosDevCluster, NacosDevServer, flavor_traits

REAL_SERVER = os.environ.get("NACOS_TEST_SERVER")
_CLIENT_AUTH = os.environ.get("NACOS_TEST_CLIENT_AUTH", "").strip().lower()


@dataclass(frozen=True)
class Target:
    """Where the contract tests point: an address and the credentials (None: auth off).

    ``flavor`` is the dev server's (None for a real server); ``client_auth`` whether client
    APIs need a token (None: not known for this real server).
    """

    address: str
    username: str | None
    password: str | None
    label: str
    flavor: Flavor | None = None
    client_auth: bool | None = True

    def client(self, **options: object) -> NacosClient:
        credentials = (
            {"username": self.username, "password": self.password} if self.username else {}
        )
        return NacosClient(self.address, **credentials, **options)  # type: ignore[arg-type]

    def anonymous(self, **options: object) -> NacosClient:
        """A client without credentials (the stock Nacos 1.x-3.2 setup needs none for
        client APIs; 3.x admin APIs and 3.3 client APIs refuse it)."""
        return NacosClient(self.address, **options)  # type: ignore[arg-type]


def unique(prefix: str) -> str:
    """A fresh name, so that tests against a real server never meet each other's data."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["real"] if REAL_SERVER else list(FLAVORS))
async def target(request: pytest.FixtureRequest) -> AsyncIterator[Target]:
    """Auth on for every API; the client logs in."""
    if REAL_SERVER:
        yield Target(
            REAL_SERVER,
            os.environ.get("NACOS_TEST_USERNAME"),
            os.environ.get("NACOS_TEST_PASSWORD"),
            "real",
        )
        return
    async with NacosDevServer(flavor=request.param) as server:
        yield Target(server.address, "nacos", "nacos", f"dev-{request.param}", request.param)


@pytest.fixture(params=["real"] if REAL_SERVER else list(FLAVORS))
async def stock(request: pytest.FixtureRequest) -> AsyncIterator[Target]:
    """Auth as each version ships it: client APIs open before 3.3, admin APIs closed on 3.x."""
    if REAL_SERVER:
        if _CLIENT_AUTH not in ("on", "off"):
            pytest.skip("set NACOS_TEST_CLIENT_AUTH=on|off to run tests without credentials")
        yield Target(
            REAL_SERVER,
            os.environ.get("NACOS_TEST_USERNAME"),
            os.environ.get("NACOS_TEST_PASSWORD"),
            "real",
            client_auth=_CLIENT_AUTH == "on",
        )
        return
    flavor: Flavor = request.param
    client_auth = flavor_traits(flavor).client_auth_by_default
    async with NacosDevServer(flavor=flavor, auth=client_auth) as server:
        yield Target(server.address, "nacos", "nacos", f"stock-{flavor}", flavor, client_auth)


@pytest.fixture(params=["real"] if REAL_SERVER else list(FLAVORS))
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[list[Target]]:
    """One target per node of a cluster (the dev cluster has three)."""
    if REAL_SERVER:
        nodes = [a.strip() for a in REAL_SERVER.split(",") if a.strip()]
        if len(nodes) < 2:
            pytest.skip("set NACOS_TEST_SERVER to two or more nodes of one cluster")
        user, pw = os.environ.get("NACOS_TEST_USERNAME"), os.environ.get("NACOS_TEST_PASSWORD")
        yield [Target(node, user, pw, "real") for node in nodes]
        return
    flavor: Flavor = request.param
    async with NacosDevCluster(3, flavor=flavor) as dev:
        yield [
            Target(node.address, "nacos", "nacos", f"dev-{flavor}", flavor) for node in dev.nodes
        ]
