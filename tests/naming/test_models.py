"""Reading instance lists: every answer shape, in one validation pass."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from nacos_async import Instance
from nacos_async.naming.models import hosts_from_json


def test_hosts_of_every_version_are_read_by_their_wire_names() -> None:
    hosts = [
        {  # 2.x v1 list
            "instanceId": "10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@orders",
            "ip": "10.0.0.1", "port": 8080, "weight": 2, "healthy": False, "enabled": True,
            "ephemeral": False, "clusterName": "C1", "serviceName": "DEFAULT_GROUP@@orders",
            "metadata": {"v": "2"}, "instanceHeartBeatInterval": 5000,
        },
        {"ip": "10.0.0.2", "port": 80, "valid": False, "serviceName": "orders"},  # 1.x
        {"ip": "10.0.0.3", "port": 81, "clusterName": None, "metadata": None, "serviceName": None},
    ]  # fmt: skip
    first, old, sparse = Instance.list_from_wire(hosts)
    assert first == Instance(
        ip="10.0.0.1", port=8080, weight=2.0, healthy=False, ephemeral=False,
        cluster_name="C1", service_name="orders", metadata={"v": "2"},
        instance_id="10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@orders",
    )  # fmt: skip
    assert isinstance(first.weight, float)
    assert old.healthy is False and old.service_name == "orders" and old.cluster_name == "DEFAULT"
    assert (sparse.cluster_name, sparse.metadata, sparse.service_name) == ("DEFAULT", {}, "")
    assert Instance.from_wire(hosts[1]) == old


def test_numbers_in_metadata_become_text() -> None:
    (host,) = Instance.list_from_wire([{"ip": "10.0.0.1", "port": 1, "metadata": {"w": 5}}])
    assert host.metadata == {"w": "5"}


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 80},
        {"ip": "10.0.0.1", "port": "eighty"},
        {"ip": "10.0.0.1", "port": 80, "metadata": ["x"]},
    ],
)
def test_an_unreadable_host_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Instance.list_from_wire([{"ip": "10.0.0.9", "port": 9}, bad])


def test_list_answers_are_read_straight_from_their_json() -> None:
    host = {"ip": "10.0.0.1", "port": 80, "clusterName": "C", "instanceHeartBeatInterval": 5000}
    v1 = json.dumps({"name": "DEFAULT_GROUP@@orders", "hosts": [host], "cacheMillis": 1000})
    v3 = json.dumps({"code": 0, "message": "success", "data": [host]})
    expected = [Instance(ip="10.0.0.1", port=80, cluster_name="C")]
    assert hosts_from_json(v1.encode(), "v1") == expected
    assert hosts_from_json(v3.encode(), "v3") == expected
    assert hosts_from_json(b'{"hosts": null}', "v1") == []


@pytest.mark.parametrize(
    ("body", "api"),
    [
        (b'{"code": 21003, "message": "no such service", "data": null}', "v3"),
        (b'{"code": 0, "data": null}', "v3"),
        (b"<html>502</html>", "v1"),
        (b'{"hosts": [{"ip": "10.0.0.1", "port": "eighty"}]}', "v1"),
        (b'[{"ip": "10.0.0.1", "port": 80}]', "v1"),
        # null or empty where a default is meant: read by the slower path, which applies it
        (b'{"hosts": [{"ip": "10.0.0.1", "port": 80, "clusterName": ""}]}', "v1"),
        (b'{"code": 0, "data": [{"ip": "10.0.0.1", "port": 80, "metadata": null}]}', "v3"),
    ],
)
def test_anything_else_is_left_to_the_slower_path_that_explains_it(body: bytes, api: str) -> None:
    assert hosts_from_json(body, api) is None  # type: ignore[arg-type]
