"""The token lifecycle end to end against the dev server, in every flavor, over loopback TCP."""

from __future__ import annotations

import anyio
import pytest

from nacos_async import NacosAuthError, NacosClient, NacosPermissionError
from nacos_async.testing import FLAVORS, FakeClock, Flavor, NacosDevServer


def config_path(server: NacosDevServer) -> tuple[str, dict[str, str]]:
    """A secured read that every flavor serves."""
    if server.traits.v1_removed:
        return "/v3/client/cs/config", {"dataId": "app", "groupName": "DEFAULT_GROUP"}
    return "/v1/cs/configs", {"dataId": "app", "group": "DEFAULT_GROUP"}


async def read(client: NacosClient, server: NacosDevServer) -> int:
    path, params = config_path(server)
    return (await client.request("GET", path, params=params)).status


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_login_uses_the_flavors_path(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        server.publish_config("app", "a: 1")
        async with NacosClient(server.address, username="nacos", password="nacos") as client:
            assert await read(client, server) == 200
        expected = "/v1/auth/users/login" if flavor == "2.x" else "/v3/auth/user/login"
        assert dict(server.stats.logins) == {expected: 1}
        assert server.stats.tokens_on_login == 0


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("fault", ["rotate_secret", "expire_tokens"])
async def test_rotation_and_expiry_are_replayed_without_surfacing(
    flavor: Flavor, fault: str
) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        server.publish_config("app", "a: 1")
        client = NacosClient(
            server.address, username="nacos", password="nacos", relogin_min_interval=0
        )
        async with client:
            for _ in range(3):
                getattr(server, fault)()
                assert await read(client, server) == 200
        assert client.stats.replays == 3 and client.stats.forced_logins == 3
        assert sum(server.stats.forbidden.values()) == 3


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_token_in_the_query_parameter_works_on_every_flavor(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        server.publish_config("app", "a: 1")
        async with NacosClient(
            server.address, username="nacos", password="nacos", token_placement="query"
        ) as client:
            assert await read(client, server) == 200


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_read_only_user_gets_permission_error_after_one_request(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        server.add_user("reader", "reader-pw", permissions=[("public:*:config/other*", "r")])
        async with NacosClient(server.address, username="reader", password="reader-pw") as client:
            before = sum(server.stats.requests.values())
            with pytest.raises(NacosPermissionError, match="authorization failed"):
                await read(client, server)
            assert sum(server.stats.requests.values()) == before + 1
        assert client.stats.logins == 1


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_wrong_password_is_an_auth_error(flavor: Flavor) -> None:
    """3.x port 8848 refuses a login with a Spring 500 whose message never says why
    ("No message available" on v3, the ApiCompatibilityFilter's text on v1): the client must
    read any non-200 from a login path as a refusal, and not retry it as a server fault."""
    async with NacosDevServer(flavor=flavor) as server:
        client = NacosClient(server.address, username="nacos", password="wrong", retry_backoff=0.01)
        with pytest.raises(NacosAuthError, match="login refused for user 'nacos'") as info:
            await client.start()
        assert "wrong" not in str(info.value)
        assert sum(server.stats.login_failures.values()) == 1  # refused once, not retried


async def test_refresh_follows_the_servers_ttl_on_the_client_clock() -> None:
    clock = FakeClock()
    renewed = anyio.Event()
    async with NacosDevServer(flavor="3.2", token_ttl=300) as server:
        client = NacosClient(server.address, username="nacos", password="nacos", clock=clock)
        client.add_event_hook(lambda e: renewed.set() if e.kind == "refresh" else None)
        async with client:
            valid_for = client.health().token_valid_for
            assert valid_for is not None and 299 <= valid_for <= 300  # remaining, as 2.2.1+ says
            await clock.advance(300 - 300 / 10 - 0.5)  # just before the window [ttl/15, ttl/10]
            assert client.stats.logins == 1
            await clock.advance(300 / 10 - 300 / 15 + 1)  # past its far end
            with anyio.fail_after(5):  # the renewal itself is real I/O on loopback
                await renewed.wait()
            assert client.stats.logins == 2 and client.stats.proactive_refreshes == 1
            assert dict(server.stats.logins) == {"/v3/auth/user/login": 2}


async def test_server_clock_hours_off_does_not_matter() -> None:
    async with NacosDevServer(flavor="2.x", token_ttl=600) as server:
        server.skew_clock(-6 * 3600)  # the server thinks it is six hours earlier
        server.publish_config("app", "x")
        async with NacosClient(server.address, username="nacos", password="nacos") as client:
            assert await read(client, server) == 200
            assert client.health().token_valid_for == pytest.approx(600, abs=2)
