"""pytest plugin (registered through the ``pytest11`` entry point): dev-server fixtures.

``nacos_server`` starts a fresh ``NacosDevServer`` per test (about a millisecond). Choose the
flavor or other options with ``@pytest.mark.nacos_server(flavor="3.2", token_ttl=5)``, or with
indirect parametrization: ``@pytest.mark.parametrize("nacos_server", ["2.x", "3.2"],
indirect=True)`` (a string is a flavor, a dict is keyword arguments).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from nacos_async.testing.server import NacosDevServer

if TYPE_CHECKING:
    from nacos_async.client import NacosClient


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nacos_server(**kwargs): keyword arguments for the nacos_server fixture's NacosDevServer",
    )


def _server_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    marker = request.node.get_closest_marker("nacos_server")
    if marker is not None:
        if marker.args:
            kwargs["flavor"] = marker.args[0]
        kwargs.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, str):
        kwargs["flavor"] = param
    elif isinstance(param, dict):
        kwargs.update(param)
    elif param is not None:
        raise TypeError(f"nacos_server param must be a flavor or a dict, not {param!r}")
    return kwargs


@pytest_asyncio.fixture
async def nacos_server(request: pytest.FixtureRequest) -> AsyncIterator[NacosDevServer]:
    """A running dev server on a free loopback port, closed after the test."""
    async with NacosDevServer(**_server_kwargs(request)) as server:
        yield server


@pytest_asyncio.fixture
async def nacos_client(nacos_server: NacosDevServer) -> AsyncIterator[NacosClient]:
    """A ``nacos_async.NacosClient`` logged in to ``nacos_server`` as its admin user."""
    from nacos_async.client import NacosClient

    client = NacosClient(
        nacos_server.address,
        username=nacos_server.admin_username,
        password=nacos_server.admin_password,
    )
    async with client:
        yield client
