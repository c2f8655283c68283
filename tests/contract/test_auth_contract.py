"""Auth behaviour any Nacos must show to our client."""

from __future__ import annotations

import pytest

from nacos_async import NacosAuthError, NacosClient

from .conftest import Target


async def test_login_and_an_authed_call(target: Target) -> None:
    async with target.client() as client:
        response = await client.request("GET", "/v1/ns/operator/metrics")
        assert response.status == 200
        if target.username:
            valid_for = client.health().token_valid_for
            assert valid_for is not None and valid_for > 0
            assert client.stats.logins == 1


async def test_a_wrong_password_is_refused(target: Target) -> None:
    """3.x answers on port 8848 with a Spring 500 that does not say why: still a refusal."""
    if not target.username:
        pytest.skip("the target server runs without auth")
    client = NacosClient(
        target.address, username=target.username, password="definitely-wrong", max_attempts=1
    )
    with pytest.raises(NacosAuthError):
        await client.start()
