"""Register, list, select, deregister per flavor; filters; validation; weighted selection."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from nacos_async import NacosClient, NacosNotFoundError
from nacos_async.naming import Instance
from nacos_async.naming.select import weighted_choice
from nacos_async.testing import FLAVORS, Flavor, NacosDevServer


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_round_trip_with_metadata_weights_and_clusters(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        async with NacosClient(server.address, username="nacos", password="nacos") as client:
            naming = client.naming
            await naming.register_instance(
                "orders", "10.0.0.5", 8080, metadata={"v": "2"}, weight=3
            )
            await naming.register_instance("orders", "10.0.0.6", 8081, cluster="east")
            await naming.register_instance("orders", "::1", 8082, healthy=False)
            hosts = {h.ip: h for h in await naming.list_instances("orders")}
            assert set(hosts) == {"10.0.0.5", "10.0.0.6", "::1"}
            assert hosts["10.0.0.5"].metadata == {"v": "2"} and hosts["10.0.0.5"].weight == 3.0
            assert hosts["10.0.0.6"].cluster_name == "east"
            assert hosts["10.0.0.5"].service_name == "orders"
            east = await naming.list_instances("orders", clusters=["east"])
            assert [h.ip for h in east] == ["10.0.0.6"]
            healthy = await naming.list_instances("orders", healthy_only=True)
            assert {h.ip for h in healthy} == {"10.0.0.5", "10.0.0.6"}
            assert (await naming.select_instance("orders")).ip in {"10.0.0.5", "10.0.0.6"}
            page = await naming.list_services()
            assert page.count == 1 and page.names == ["orders"]
            await naming.deregister_instance("orders", "10.0.0.6", 8081, cluster="east")
            assert {h.ip for h in await naming.list_instances("orders")} == {"10.0.0.5", "::1"}
            with pytest.raises(NacosNotFoundError, match="no healthy instance"):
                await naming.select_instance("nobody-home")


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_close_deregisters_what_the_client_registered(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor, auth=False) as server:
        async with NacosClient(server.address) as client:
            await client.naming.register_instance("orders", "10.0.0.5", 8080)
            await client.naming.register_instance("billing", "10.0.0.5", 8081)
        assert all(not s.instances for s in server.naming.list_services("public", "DEFAULT_GROUP"))


async def test_close_with_the_server_down_returns_within_its_bound() -> None:
    async with NacosDevServer(auth=False) as server:
        client = NacosClient(server.address, retry_backoff=0.05, request_timeout=0.5)
        await client.start()
        await client.naming.register_instance("orders", "10.0.0.5", 8080)
        await server.pause()
        import anyio

        with anyio.fail_after(6):
            await client.close()
        await server.resume()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ({"service": ""}, "service name must be a non-empty string"),
        ({"service": "a@@b"}, "invalid service name 'a@@b'"),
        ({"service": "has space"}, "invalid service name"),
        ({"ip": "not-an-ip"}, "invalid IP address 'not-an-ip'"),
        ({"ip": "10.0.0.256"}, "invalid IP address"),
        ({"port": 0}, "invalid port 0"),
        ({"port": 70000}, "invalid port 70000"),
        ({"port": True}, "invalid port True"),
        ({"weight": -1}, "invalid weight -1"),
        ({"weight": 10001}, "invalid weight 10001"),
        ({"weight": float("nan")}, "invalid weight nan"),
        ({"group": "bad group"}, "invalid group 'bad group'"),
        ({"cluster": "bad/cluster"}, "invalid cluster 'bad/cluster'"),
        ({"metadata": {"k": 1}}, "metadata value for 'k' must be a string, got 1"),
        ({"metadata": {"": "v"}}, "metadata keys must be non-empty strings"),
    ],
)
async def test_bad_input_is_refused_before_any_request(call: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"service": "orders", "ip": "10.0.0.5", "port": 8080} | call
    async with NacosDevServer(auth=False) as server, NacosClient(server.address) as client:
        before = sum(server.stats.requests.values())
        with pytest.raises(ValueError, match=match):
            await client.naming.register_instance(
                args.pop("service"), args.pop("ip"), args.pop("port"), **args
            )
        assert sum(server.stats.requests.values()) == before


def test_weighted_selection_matches_the_weights() -> None:
    weights = {"a": 1.0, "b": 2.0, "c": 7.0, "zero": 0.0}
    instances = [Instance(ip=f"10.0.0.{i}", port=80, weight=w, service_name=n)
                 for i, (n, w) in enumerate(weights.items())]  # fmt: skip
    instances.append(Instance(ip="10.0.0.9", port=80, weight=5, healthy=False, service_name="sick"))
    instances.append(Instance(ip="10.0.0.8", port=80, weight=5, enabled=False, service_name="off"))
    rng = random.Random(20261124)
    draws = 10_000
    counts = Counter(weighted_choice(instances, rng).service_name for _ in range(draws))  # type: ignore[union-attr]
    assert set(counts) == {"a", "b", "c"}
    total = sum(w for w in weights.values())
    chi_square = sum(
        (counts[name] - draws * w / total) ** 2 / (draws * w / total)
        for name, w in weights.items()
        if w > 0
    )
    assert chi_square < 13.82  # 2 degrees of freedom, p = 0.001
    assert weighted_choice([instances[3]], rng) is None  # weight 0 only
