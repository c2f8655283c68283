"""Config against what each Nacos version really answers (issue 15), through the public API."""

from __future__ import annotations

import pytest

from nacos_async import NacosAuthError, NacosClient, NacosConflictError, NacosPermissionError
from nacos_async.testing import Flavor, NacosDevServer

GUIDANCE = r"(?i)username"  # a refusal must say what to configure


@pytest.fixture(autouse=True)
def _over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """These are the HTTP API families' differences (gRPC has one API on every version)."""
    monkeypatch.setenv("NACOS_TRANSPORT", "http")


@pytest.mark.parametrize("flavor", ["2.x", "3.1"])
async def test_publish_and_delete_without_credentials_use_the_open_api(flavor: Flavor) -> None:
    """Client auth off (as 2.x-3.2 ship): 3.x admin APIs still need a token, but 3.0/3.1
    serve the open /v1/cs/configs without one; a refused admin call should fall back to it."""
    async with NacosDevServer(flavor=flavor, auth=False) as server:
        async with NacosClient(server.address) as client:
            await client.config.publish("app.yaml", "a: 1", type="yaml")
            assert server.get_config("app.yaml") == "a: 1"
            await client.config.delete("app.yaml")
            assert server.get_config("app.yaml") is None


@pytest.mark.parametrize("call", ["publish", "delete"])
async def test_publish_and_delete_without_credentials_on_32_say_what_to_configure(
    call: str,
) -> None:
    async with NacosDevServer(flavor="3.2", auth=False) as server:
        server.publish_config("app.yaml", "a: 1")
        async with NacosClient(server.address) as client:
            assert await client.config.get("app.yaml") == "a: 1"  # the client API is open
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                if call == "publish":
                    await client.config.publish("app.yaml", "a: 2")
                else:
                    await client.config.delete("app.yaml")


@pytest.mark.parametrize("call", ["get", "publish"])
async def test_33_without_credentials_says_what_to_configure(call: str) -> None:
    async with NacosDevServer(flavor="3.3") as server:  # client auth on, as 3.3 ships
        server.publish_config("app.yaml", "a: 1")
        async with NacosClient(server.address) as client:
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                if call == "get":
                    await client.config.get("app.yaml")
                else:
                    await client.config.publish("app.yaml", "a: 2")


async def test_33_with_credentials_serves_every_config_call() -> None:
    async with NacosDevServer(flavor="3.3") as server:
        async with NacosClient(server.address, username="nacos", password="nacos") as client:
            await client.config.publish("app.yaml", "a: 1", type="yaml")
            item = await client.config.get_with_meta("app.yaml")
            await client.config.publish("app.yaml", "a: 2", type="yaml", cas_md5=item.md5)
            assert await client.config.get("app.yaml") == "a: 2"
            await client.config.delete("app.yaml")
            assert await client.config.get("app.yaml", default=None) is None
        assert sum(server.stats.forbidden.values()) == 0


async def test_without_credentials_on_31_compare_and_set_works_through_the_open_api() -> None:
    async with NacosDevServer(flavor="3.1", auth=False) as server:
        server.publish_config("app.yaml", "a: 1")
        async with NacosClient(server.address) as client:
            item = await client.config.get_with_meta("app.yaml")
            with pytest.raises(NacosConflictError):
                await client.config.publish("app.yaml", "a: 2", cas_md5="0" * 32)
            await client.config.publish("app.yaml", "a: 2", cas_md5=item.md5)
        assert server.get_config("app.yaml") == "a: 2"


async def test_without_credentials_on_32_the_open_api_is_looked_for_once() -> None:
    """The first refused publish finds v1 gone (404); later ones raise at once."""
    async with NacosDevServer(flavor="3.2", auth=False) as server:
        async with NacosClient(server.address) as client:
            for _ in range(3):
                with pytest.raises(NacosAuthError, match=GUIDANCE):
                    await client.config.publish("app.yaml", "a: 1")
        assert server.stats.requests["POST /v3/admin/cs/config"] == 3
        assert server.stats.requests["POST /v1/cs/configs"] == 1


async def test_a_permission_refusal_never_goes_around_through_the_open_api() -> None:
    """A user the admin API refuses ("authorization failed!") gets NacosPermissionError, even
    where the open v1 API would take the write without a token (3.1, client auth off)."""
    async with NacosDevServer(flavor="3.1", auth=False) as server:
        server.add_user("reader", "pw", permissions=[("*", "r")])
        async with NacosClient(server.address, username="reader", password="pw") as client:
            with pytest.raises(NacosPermissionError):
                await client.config.publish("app.yaml", "a: 1")
        assert server.stats.requests["POST /v1/cs/configs"] == 0
        assert server.get_config("app.yaml") is None
