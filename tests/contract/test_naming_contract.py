"""Naming calls any Nacos must serve to our client, with credentials, without, across nodes."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack

import pytest

from nacos_async import NacosAuthError, NacosNotFoundError

from .conftest import Target, unique

GUIDANCE = r"(?i)username"  # a refusal must say what to configure
IP = "10.254.0.5"


async def test_register_list_select_deregister(target: Target) -> None:
    service = unique("contract-svc")
    async with target.client(deregister_on_close=False) as client:
        naming = client.naming
        await naming.register_instance(service, IP, 8080, metadata={"v": "1"}, weight=2)
        (host,) = await naming.list_instances(service)
        assert (host.ip, host.port, host.weight, host.metadata) == (IP, 8080, 2.0, {"v": "1"})
        assert (await naming.select_instance(service)).port == 8080
        await naming.deregister_instance(service, IP, 8080)
        assert await naming.list_instances(service) == []
        with pytest.raises(NacosNotFoundError):
            await naming.select_instance(service)


async def test_every_cluster_is_listed_when_none_is_named(target: Target) -> None:
    """The v3 instance list answers only DEFAULT for a blank cluster: the client must find
    the other clusters itself (or use an API that lists all) on every version."""
    service = unique("contract-clusters")
    async with target.client() as client:
        naming = client.naming
        await naming.register_instance(service, IP, 8080)
        await naming.register_instance(service, IP, 8081, cluster="east")
        listed = {(h.port, h.cluster_name) for h in await naming.list_instances(service)}
        assert listed == {(8080, "DEFAULT"), (8081, "east")}
        east = await naming.list_instances(service, clusters=["east"])
        assert [h.port for h in east] == [8081]


async def test_list_services_keeps_to_the_group_asked_for(target: Target) -> None:
    """The 3.x admin list reads groupNameParam (a substring), not groupName: the client must
    send what the server reads and keep exact-group results and counts for the caller."""
    group = unique("CG")
    async with target.client() as client:
        naming = client.naming
        await naming.register_instance("orders", IP, 8080, group=group)
        await naming.register_instance("orders-v2", IP, 8081, group=f"{group}2")
        await naming.register_instance("billing", IP, 8082, group=f"X{group}")
        page = await naming.list_services(group=group)
        assert (page.count, page.names) == (1, ["orders"])


async def test_update_instance(target: Target) -> None:
    """PUT /v1/ns/instance is an admin API in 3.0/3.1 (410) and gone in 3.2: on 3.x the
    client must use PUT /v3/admin/ns/instance."""
    service = unique("contract-update")
    async with target.client() as client:
        naming = client.naming
        await naming.register_instance(service, IP, 8080)
        await naming.update_instance(service, IP, 8080, weight=5, metadata={"v": "2"})
        (host,) = await naming.list_instances(service)
        assert (host.weight, host.metadata) == (5.0, {"v": "2"})


async def test_register_without_credentials(stock: Target) -> None:
    """Client APIs are open unless client auth is on (3.3's default): then the refusal says
    what to configure."""
    service = unique("contract-anon")
    async with stock.anonymous() as client:
        if stock.client_auth:
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                await client.naming.register_instance(service, IP, 8080)
            return
        await client.naming.register_instance(service, IP, 8080)
        assert [h.port for h in await client.naming.list_instances(service)] == [8080]


async def test_list_services_without_credentials(stock: Target) -> None:
    """The 3.x service list is an admin API (token needed by default); 3.0/3.1 still serve
    the open /v1/ns/service/list: use it there, else say what to configure."""
    async with stock.anonymous() as client:
        try:
            page = await client.naming.list_services(group=unique("CG"))
        except NacosAuthError as exc:
            assert stock.flavor not in ("2.x", "3.1"), f"the open v1 API was there: {exc}"
            assert re.search(GUIDANCE, str(exc)), str(exc)
            return
        assert stock.flavor not in ("3.2", "3.3")
        assert (page.count, page.names) == (0, [])


async def test_an_instance_registered_through_one_node_is_seen_on_every_node(
    cluster: list[Target],
) -> None:
    """v1 naming writes are Distro-forwarded to the responsible node and synced; v3 client
    writes are not (alibaba/nacos#14992). Where v1 is served (to 3.1) the client must use it;
    from 3.2 HTTP registration cannot be cluster-safe (use gRPC): nothing to test over HTTP."""
    entry = cluster[0]
    if entry.flavor in ("3.2", "3.3"):
        pytest.skip("Nacos 3.2+: HTTP registration is not cluster-safe; gRPC is")
    service = unique("contract-distro")
    ports = list(range(8080, 8086))  # their ip:port hash to every node of a three-node cluster
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(entry.client())
        for port in ports:
            await client.naming.register_instance(service, IP, port)
        for node in cluster:
            reader = await stack.enter_async_context(node.client())
            listed = sorted(h.port for h in await reader.naming.list_instances(service))
            assert listed == ports, node.address
