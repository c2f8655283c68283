"""Naming over HTTP against what each Nacos version really answers (issue 15), through the
public API (the same calls over gRPC: tests/grpc/test_naming.py and tests/contract)."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from nacos_async import NacosApiUnavailableError, NacosAuthError, NacosClient, NacosNotFoundError
from nacos_async.response import Response
from nacos_async.testing import FLAVORS, FakeClock, Flavor, NacosDevCluster, NacosDevServer

from .helpers import EventCounter

GUIDANCE = r"(?i)username"  # a refusal must say what to configure


def admin(server: NacosDevServer | NacosDevCluster, **options: object) -> NacosClient:
    options = {"transport": "http"} | options
    return NacosClient(server.address, username="nacos", password="nacos", **options)  # type: ignore[arg-type]


def on_server(server: NacosDevServer, service: str = "orders") -> dict[tuple[str, int], bool]:
    svc = server.naming.service("public", "DEFAULT_GROUP", service)
    return {(i.ip, i.port): i.healthy for i in svc.instances.values()} if svc else {}


# ----- 1. every cluster when none is named --------------------------------------------------------
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_list_instances_without_clusters_lists_every_cluster(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        naming = client.naming
        await naming.register_instance("orders", "10.0.0.5", 8080)
        await naming.register_instance("orders", "10.0.0.6", 8080, cluster="east")
        await naming.register_instance("orders", "10.0.0.7", 8080, cluster="west")
        listed = {(h.ip, h.cluster_name) for h in await naming.list_instances("orders")}
        assert listed == {("10.0.0.5", "DEFAULT"), ("10.0.0.6", "east"), ("10.0.0.7", "west")}
        two = await naming.list_instances("orders", clusters=["east", "west"])
        assert sorted(h.ip for h in two) == ["10.0.0.6", "10.0.0.7"]


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_select_instance_finds_an_instance_outside_the_default_cluster(
    flavor: Flavor,
) -> None:
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        await client.naming.register_instance("orders", "10.0.0.6", 8080, cluster="east")
        assert (await client.naming.select_instance("orders")).ip == "10.0.0.6"


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_watch_without_clusters_reports_every_cluster(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        await client.naming.register_instance("orders", "10.0.0.6", 8080, cluster="east")
        with anyio.fail_after(5):
            async for hosts in client.naming.watch("orders", initial=True):
                assert sorted(h.ip for h in hosts) == ["10.0.0.5", "10.0.0.6"]
                break


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_listing_a_service_that_does_not_exist_is_empty(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        assert await client.naming.list_instances("nobody-home") == []
        assert await client.naming.list_instances("nobody-home", clusters=["east"]) == []


@pytest.mark.parametrize("flavor", ["3.2", "3.3"])
async def test_on_32_a_cluster_appearing_later_is_listed(flavor: Flavor) -> None:
    """The cluster names are read on every list, not once: a new cluster shows up at once."""
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        naming = client.naming
        await naming.register_instance("orders", "10.0.0.5", 8080, cluster="east")
        assert [h.cluster_name for h in await naming.list_instances("orders")] == ["east"]
        await naming.register_instance("orders", "10.0.0.6", 8080, cluster="west")
        listed = sorted(h.cluster_name for h in await naming.list_instances("orders"))
        assert listed == ["east", "west"]


async def test_without_credentials_on_32_lists_show_default_only_and_say_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The cluster names come from an admin API, which needs a token even with client auth
    off: without credentials a list shows DEFAULT (what the v3 client API answers), warns once,
    tells health(), and never asks the refusing admin API again. Named clusters still work."""
    async with NacosDevServer(flavor="3.2", auth=False) as server:
        async with NacosClient(server.address, transport="http") as client:
            naming = client.naming
            await naming.register_instance("orders", "10.0.0.5", 8080)
            await naming.register_instance("orders", "10.0.0.6", 8080, cluster="east")
            for _ in range(2):
                assert [h.ip for h in await naming.list_instances("orders")] == ["10.0.0.5"]
            east = await naming.list_instances("orders", clusters=["east"])
            assert [h.ip for h in east] == ["10.0.0.6"]
            assert server.stats.requests["GET /v3/admin/ns/service"] == 1
            warnings = [r.message for r in caplog.records if r.levelname == "WARNING"]
            assert [m for m in warnings if "DEFAULT cluster only" in m] == [warnings[0]]
            naming_health = client.health().services["naming"]
            assert "DEFAULT cluster only" in naming_health["instance_lists"]


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_naming_speaks_v1_where_served_and_probes_it_once_where_not(flavor: Flavor) -> None:
    """v1 on 1.x-3.1 (Distro-forwarded, every cluster, exact groups); on 3.2+ the first naming
    call finds v1 gone (501) and the client remembers it."""
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        naming = client.naming
        await naming.register_instance("orders", "10.0.0.5", 8080)
        await naming.list_instances("orders")
        await naming.list_services()
        await naming.deregister_instance("orders", "10.0.0.5", 8080)
    requests = server.stats.requests
    v1 = sum(n for route, n in requests.items() if " /v1/ns/" in route)
    v3 = sum(n for route, n in requests.items() if " /v3/client/ns/" in route)
    if flavor in ("2.x", "3.1"):
        assert (v1, v3) == (4, 0)
    else:
        assert (v1, v3, server.stats.statuses[501]) == (1, 3, 1)


# ----- 2. list_services keeps to the group asked for ----------------------------------------------
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_list_services_keeps_to_the_group_asked_for(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        naming = client.naming
        for group, service in (("G", "orders"), ("G2", "orders-v2"), ("XG", "pay")):
            await naming.register_instance(service, "10.0.0.5", 8080, group=group)
        await naming.register_instance("billing", "10.0.0.5", 8080)
        page = await naming.list_services(group="G")
        assert (page.count, page.names) == (1, ["orders"])
        page = await naming.list_services()  # DEFAULT_GROUP
        assert (page.count, page.names) == (1, ["billing"])


async def test_list_services_on_32_reads_every_page_of_the_group() -> None:
    """The admin list counts every regex match; the client reads them all (500 a page), keeps
    the exact group and pages the result itself."""
    async with NacosDevServer(flavor="3.2") as server, admin(server) as client:
        for i in range(520):
            server.create_service(f"svc-{i:03d}", group="G")
        for i in range(30):
            server.create_service(f"other-{i:02d}", group="G2")
        page = await client.naming.list_services(group="G", page=6, page_size=100)
        assert (page.count, page.names) == (520, [f"svc-{i:03d}" for i in range(500, 520)])
        assert server.stats.requests["GET /v3/admin/ns/service/list"] == 2


async def test_list_services_on_32_asks_for_the_group_quoted() -> None:
    """A group is a regular expression to the server: "a.b" unquoted would match "aXb" too."""
    async with NacosDevServer(flavor="3.2") as server, admin(server) as client:
        for i in range(600):
            server.create_service(f"svc-{i:03d}", group="aXb")
        server.create_service("orders", group="a.b")
        page = await client.naming.list_services(group="a.b")
        assert (page.count, page.names) == (1, ["orders"])
        assert server.stats.requests["GET /v3/admin/ns/service/list"] == 1  # one match, one page


# ----- 3. a 3.x cluster: HTTP registration and Distro ---------------------------------------------
@pytest.mark.parametrize("flavor", ["2.x", "3.1"])
async def test_registration_and_heartbeats_reach_every_node_of_the_cluster(
    flavor: Flavor,
) -> None:
    """3.0/3.1 still serve the Distro-forwarded v1 instance API: register, beat and
    deregister through it, so that every node sees the instance and its owner checks it."""
    clock = FakeClock()
    async with NacosDevCluster(3, flavor=flavor, clock=clock) as cluster:
        owner = cluster.responsible("10.0.0.5", 8080)
        entry = next(node for node in cluster.nodes if node is not owner)
        async with NacosClient(entry.address, transport="http", username="nacos", password="nacos",
                               clock=clock) as client:  # fmt: skip
            beats = EventCounter(client, "heartbeat")
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            assert [on_server(node) for node in cluster.nodes] == [{("10.0.0.5", 8080): True}] * 3
            for expected in range(1, 9):  # 40 s of beats: past every server timeout
                await clock.advance(5.0)
                await beats.wait_for(expected)
            assert [on_server(node) for node in cluster.nodes] == [{("10.0.0.5", 8080): True}] * 3
        assert [on_server(node) for node in cluster.nodes] == [{}] * 3  # deregistered on close


@pytest.mark.parametrize("flavor", ["3.2", "3.3"])
async def test_http_registration_on_32_reaches_only_the_node_it_was_sent_to(
    flavor: Flavor,
) -> None:
    """Nacos 3.2+ has no v1 instance API: over HTTP a registration stays on the node that
    received it unless that node owns the instance (alibaba/nacos#14992). The README says
    so and points at the gRPC transport."""
    async with NacosDevCluster(3, flavor=flavor) as cluster:
        owner = cluster.responsible("10.0.0.5", 8080)
        entry = next(node for node in cluster.nodes if node is not owner)
        async with admin(entry, deregister_on_close=False) as client:
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
        seen = [node for node in cluster.nodes if on_server(node)]
        assert seen == [entry]


# ----- 4. default auth on 3.x and update_instance -------------------------------------------------
async def test_list_services_without_credentials_on_31_uses_the_open_v1_api() -> None:
    async with NacosDevServer(flavor="3.1", auth=False) as server:  # as 3.1 ships
        async with NacosClient(server.address, transport="http") as client:
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            page = await client.naming.list_services()
            assert (page.count, page.names) == (1, ["orders"])


@pytest.mark.parametrize("flavor", ["3.2", "3.3"])
async def test_list_services_without_credentials_on_32_says_what_to_configure(
    flavor: Flavor,
) -> None:
    async with NacosDevServer(flavor=flavor, auth=False) as server:  # client auth off
        async with NacosClient(server.address, transport="http") as client:
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                await client.naming.list_services()


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_update_instance(flavor: Flavor) -> None:
    """v1 PUT is an admin API in 3.0/3.1 (410) and gone in 3.2 (501): use the v3 admin PUT."""
    async with NacosDevServer(flavor=flavor) as server, admin(server) as client:
        naming = client.naming
        await naming.register_instance("orders", "10.0.0.5", 8080)
        await naming.update_instance("orders", "10.0.0.5", 8080, weight=5, metadata={"v": "2"})
        (host,) = await naming.list_instances("orders")
        assert (host.weight, host.metadata) == (5.0, {"v": "2"})


@pytest.mark.parametrize("flavor", ["3.1", "3.2"])
async def test_update_instance_without_credentials_says_what_to_configure(flavor: Flavor) -> None:
    """No open twin: v1 PUT is an admin API on 3.0/3.1 (410) and gone on 3.2."""
    async with NacosDevServer(flavor=flavor, auth=False) as server:  # client auth off
        async with NacosClient(server.address, transport="http") as client:
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                await client.naming.update_instance("orders", "10.0.0.5", 8080, weight=5)
        assert server.stats.requests["PUT /v1/ns/instance"] == 0


# ----- 5. 3.3: client auth on by default ----------------------------------------------------------
@pytest.mark.parametrize("call", ["register", "list", "select"])
async def test_33_without_credentials_says_what_to_configure(call: str) -> None:
    async with NacosDevServer(flavor="3.3") as server:  # client auth on, as 3.3 ships
        async with NacosClient(server.address, transport="http") as client:
            naming = client.naming
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                if call == "register":
                    await naming.register_instance("orders", "10.0.0.5", 8080)
                elif call == "list":
                    await naming.list_instances("orders")
                else:
                    await naming.select_instance("orders")


# ----- 6. fidelity: protection, beats, 501 --------------------------------------------------------
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_select_instance_refuses_when_every_instance_is_unhealthy(flavor: Flavor) -> None:
    """No protect threshold for a service without stored metadata: unhealthy stays unhealthy."""
    clock = FakeClock()
    async with NacosDevServer(flavor=flavor, clock=clock) as server:
        async with admin(server, clock=clock, deregister_on_close=False) as gone:
            await gone.naming.register_instance("orders", "10.0.0.5", 8080)
        await clock.advance(16)  # no beats since: past the heartbeat timeout, not the deletion
        async with admin(server, clock=clock) as client:
            (host,) = await client.naming.list_instances("orders")
            assert host.healthy is False
            with pytest.raises(NacosNotFoundError, match="no healthy instance"):
                await client.naming.select_instance("orders")


@pytest.mark.parametrize("flavor", ["2.x", "3.3"])
async def test_a_protect_threshold_makes_nacos_return_unhealthy_ones_as_healthy(
    flavor: Flavor,
) -> None:
    clock = FakeClock()
    async with NacosDevServer(flavor=flavor, clock=clock) as server:
        server.create_service("orders", protect_threshold=0.5)
        async with admin(server, clock=clock, deregister_on_close=False) as other:
            await other.naming.register_instance("orders", "10.0.0.5", 8080)
        await clock.advance(16)
        async with admin(server, clock=clock) as client:
            assert (await client.naming.select_instance("orders")).ip == "10.0.0.5"


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_a_persistent_instance_gets_no_heartbeats_and_stays(flavor: Flavor) -> None:
    clock = FakeClock()
    async with NacosDevServer(flavor=flavor, clock=clock) as server:
        async with admin(server, clock=clock) as client:
            await client.naming.register_instance("db", "10.0.0.9", 5432, ephemeral=False)
            await clock.advance(60)
            assert client.stats.heartbeats == 0
            assert on_server(server, "db") == {("10.0.0.9", 5432): True}


@pytest.mark.parametrize("flavor", ["3.2", "3.3"])
async def test_pinned_v1_on_32_is_an_unavailable_api(flavor: Flavor) -> None:
    """3.2 answers removed /v1/ns/* with the DistroFilter's 501, not a 404."""
    async with NacosDevServer(flavor=flavor) as server, admin(server, api_version="v1") as client:
        with pytest.raises(NacosApiUnavailableError, match="no such api:POST:/nacos/v1/ns"):
            await client.naming.register_instance("orders", "10.0.0.5", 8080)


async def test_on_32_a_list_asks_for_the_clusters_while_listing_those_seen_last_time() -> None:
    """Two requests (cluster names, then the list) cost one round trip once the names are
    known: the clusters seen last time are listed while the current ones are looked up."""
    from nacos_async.testing import MockTransport, answer
    from nacos_async.transport import HttpRequest

    listing = asyncio.Event()
    clusters = ["east"]
    lookups: list[str] = []

    async def handler(request: HttpRequest) -> Response:
        if request.path.endswith("/login"):
            return answer(json={"accessToken": "t", "tokenTtl": 18000})
        if request.path == "/v3/admin/ns/service":
            lookups.append("asked")
            if len(lookups) > 1:  # from the second list on: answer only once the list is asked
                await listing.wait()
            return answer(json={"code": 0, "data": {"clusterMap": {c: {} for c in clusters}}})
        assert request.path == "/v3/client/ns/instance/list"
        listing.set()
        names = (request.params or {})["clusterName"].split(",")
        hosts = [{"ip": f"10.0.0.{i}", "port": 80, "clusterName": n} for i, n in enumerate(names)]
        return answer(json={"code": 0, "data": hosts})

    client = NacosClient("nacos.test:8848", username="u", password="p", api_version="v3",
                         transport=MockTransport(handler))  # fmt: skip
    async with client:
        with anyio.fail_after(5):  # a lookup that waited for the list would never end
            assert [h.cluster_name for h in await client.naming.list_instances("orders")] == [
                "east"
            ]
            listing.clear()
            assert [h.cluster_name for h in await client.naming.list_instances("orders")] == [
                "east"
            ]
            clusters.append("west")  # a cluster appears: listed again with the current names
            listing.clear()
            listed = await client.naming.list_instances("orders")
            assert sorted(h.cluster_name for h in listed) == ["east", "west"]
