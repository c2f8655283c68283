"""The pytest plugin's fixtures as a user's test would use them."""

from __future__ import annotations

import pytest

from nacos_async import NacosClient
from nacos_async.testing import NacosDevServer


async def test_nacos_client_is_logged_in_to_nacos_server(
    nacos_server: NacosDevServer, nacos_client: NacosClient
) -> None:
    await nacos_client.config.publish("app", "from a fixture")
    assert nacos_server.get_config("app") is not None
    assert await nacos_client.config.get("app") == "from a fixture"
    assert nacos_client.stats.logins == 1


@pytest.mark.parametrize("nacos_server", ["2.x", "3.2"], indirect=True)
async def test_each_flavor(nacos_server: NacosDevServer, nacos_client: NacosClient) -> None:
    await nacos_client.naming.register_instance("svc", "10.0.0.1", 80)
    assert [h.ip for h in await nacos_client.naming.list_instances("svc")] == ["10.0.0.1"]
