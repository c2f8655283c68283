"""pytest plugin (registered through the ``pytest11`` entry point): dev-server fixtures.

``nacos_server`` starts a fresh ``NacosDevServer`` per test (about a millisecond). Choose the
flavor or other options with ``@pytest.mark.nacos_server(flavor="3.2", token_ttl=5)``, or with
indirect parametrization: ``@pytest.mark.parametrize("nacos_server", ["2.x", "3.2"],
indirect=True)`` (a string is a flavor, a dict is keyword arguments). ``nacos_client`` is a
client logged in to it; ``nacos_env`` points the ``NACOS_*`` variables at it, for apps that
read their settings from the environment when they start.

Every pytest run in an environment loads this plugin, so it imports nothing beyond pytest and
the library: the async fixtures are run by whichever plugin runs the test, pytest-asyncio
(strict or auto mode) or anyio's own (``@pytest.mark.anyio``).
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

from nacos_async.testing.server import NacosDevServer

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

_NO_RUNNER = (
    "{name} is an async fixture, and no plugin runs this test on an event loop. Install "
    'pytest-asyncio and mark the test @pytest.mark.asyncio (or set asyncio_mode = "auto"), '
    "or mark it @pytest.mark.anyio for anyio's plugin."
)


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


async def _nacos_server(request: pytest.FixtureRequest) -> AsyncIterator[NacosDevServer]:
    """A running dev server on a free loopback port, closed after the test."""
    async with NacosDevServer(**_server_kwargs(request)) as server:
        yield server


async def _nacos_client(nacos_server: NacosDevServer) -> AsyncIterator[NacosClient]:
    """A ``nacos_async.NacosClient`` logged in to ``nacos_server`` as its admin user."""
    from nacos_async.client import NacosClient

    client = NacosClient(
        nacos_server.address,
        username=nacos_server.admin_username,
        password=nacos_server.admin_password,
    )
    async with client:
        yield client


nacos_server = pytest.fixture(_nacos_server, name="nacos_server")
nacos_client = pytest.fixture(_nacos_client, name="nacos_client")


@pytest.fixture
def nacos_env(
    nacos_server: NacosDevServer, monkeypatch: pytest.MonkeyPatch
) -> Generator[NacosDevServer, None, None]:
    """``NACOS_SERVER_ADDR``, ``NACOS_USERNAME`` and ``NACOS_PASSWORD`` set to ``nacos_server``
    for the test, so that ``NacosSettings()`` (and the FastAPI and aiohttp integrations) find it."""
    monkeypatch.setenv("NACOS_SERVER_ADDR", nacos_server.address)
    monkeypatch.setenv("NACOS_USERNAME", nacos_server.admin_username)
    monkeypatch.setenv("NACOS_PASSWORD", nacos_server.admin_password)
    yield nacos_server


_ASYNC_FIXTURES: dict[str, Callable[..., Any]] = {
    "nacos_server": _nacos_server,
    "nacos_client": _nacos_client,
}
_asyncio_variants: dict[str, Callable[..., Any]] = {}


def _asyncio_variant(name: str) -> Callable[..., Any]:
    """A copy of the fixture function that pytest-asyncio runs even in strict mode.

    A copy, so that the function anyio runs stays unmarked: pytest-asyncio would otherwise
    take the fixture of an anyio test onto its own event loop.
    """
    if name not in _asyncio_variants:
        import pytest_asyncio

        func = _ASYNC_FIXTURES[name]
        copy = types.FunctionType(
            func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__
        )
        copy.__annotations__ = func.__annotations__
        pytest_asyncio.fixture(copy)  # marks ``copy``; the returned definition is not needed
        _asyncio_variants[name] = copy
    return _asyncio_variants[name]


@pytest.hookimpl(tryfirst=True, wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Generator[Any]:
    """Hand this plugin's async fixtures to the plugin that runs the test requesting them."""
    name = fixturedef.argname
    func = _ASYNC_FIXTURES.get(name)
    if func is None or fixturedef.func not in (func, _asyncio_variants.get(name)):
        return (yield)  # not ours, or overridden by the user
    if "anyio_backend" in request.fixturenames:
        fixturedef.func = func  # anyio's hook runs it on the test's loop
    elif request.config.pluginmanager.has_plugin("asyncio"):
        fixturedef.func = _asyncio_variant(name)
    else:
        fixturedef.func = _failing(name)  # pytest reports the failure as the fixture's own
        try:
            return (yield)
        finally:
            fixturedef.func = func
    return (yield)


def _failing(name: str) -> Callable[..., Any]:
    def no_runner(**kwargs: Any) -> Any:
        pytest.fail(_NO_RUNNER.format(name=name), pytrace=False)

    return no_runner
