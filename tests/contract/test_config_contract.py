"""Config calls any Nacos must serve to our client, with credentials and without."""

from __future__ import annotations

import re

import anyio
import pytest

from nacos_async import NacosAuthError, NacosNotFoundError
from nacos_async.config.models import md5_hex

from .conftest import Target, unique

GUIDANCE = r"(?i)username"  # a refusal must say what to configure


async def test_publish_get_delete(target: Target) -> None:
    data_id = unique("contract-cfg")
    async with target.client() as client:
        with pytest.raises(NacosNotFoundError):
            await client.config.get(data_id)
        await client.config.publish(data_id, "a: 1", type="yaml")
        item = await client.config.get_with_meta(data_id)
        assert (item.content, item.md5, item.type) == ("a: 1", md5_hex("a: 1"), "yaml")
        await client.config.delete(data_id)
        assert await client.config.get(data_id, default=None) is None


async def test_a_watch_sees_a_publish(target: Target) -> None:
    data_id = unique("contract-watch")
    async with target.client(config_poll_interval=0.2, long_poll_timeout=10) as client:
        await client.config.publish(data_id, "v1")
        seen: list[str | None] = []
        with anyio.fail_after(15):
            async for change in client.config.watch(data_id, initial=True):
                seen.append(change.content)
                if change.content == "v1":
                    await client.config.publish(data_id, "v2")
                if change.content == "v2":
                    break
        await client.config.delete(data_id)
    assert seen[-1] == "v2"


async def test_publish_and_delete_without_credentials(stock: Target) -> None:
    """Over HTTP, Nacos 3.x admin APIs need a token even with client auth off; 3.0/3.1 still
    serve the open v1 API without one. So: use it where it exists, else say what to configure."""
    data_id = unique("contract-anon")
    async with stock.anonymous(transport="http") as client:
        try:
            await client.config.publish(data_id, "a: 1")
        except NacosAuthError as exc:
            assert stock.flavor not in ("2.x", "3.1"), f"the open v1 API was there: {exc}"
            assert re.search(GUIDANCE, str(exc)), str(exc)
            return
        assert stock.flavor not in ("3.2", "3.3")
        assert await client.config.get(data_id) == "a: 1"
        await client.config.delete(data_id)
        assert await client.config.get(data_id, default=None) is None


async def test_publish_and_delete_without_credentials_over_grpc(stock: Target) -> None:
    """Over gRPC config writes are client calls: open unless client auth is on, and then the
    refusal says what to configure."""
    pytest.importorskip("grpclib")
    data_id = unique("contract-anon-grpc")
    async with stock.anonymous(transport="grpc") as client:
        if stock.client_auth:
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                await client.config.publish(data_id, "a: 1")
            return
        await client.config.publish(data_id, "a: 1")
        assert await client.config.get(data_id) == "a: 1"
        await client.config.delete(data_id)
        assert await client.config.get(data_id, default=None) is None


async def test_get_without_credentials(stock: Target) -> None:
    """Client APIs are open unless client auth is on (the 3.3 default): then the refusal
    says what to configure."""
    async with stock.anonymous() as client:
        if not stock.client_auth:
            assert await client.config.get(unique("contract-none"), default="-") == "-"
            return
        with pytest.raises(NacosAuthError, match=GUIDANCE):
            await client.config.get(unique("contract-none"), default="-")
