"""Naming over gRPC: connection-bound instances, queries, subscriptions and their push (§5).

Instances registered over gRPC belong to their connection (one per service per connection, last
wins; a batch replaces the set): no beats, no expiry, gone with the connection. They live in
the same store as HTTP ones, so both APIs see them; in a ``NacosDevCluster`` the node holding the
connection syncs them to every node (Distro), and removes them everywhere when it ends.
Persistent instances are written to every node too (Raft). A subscriber gets
``NotifySubscriberRequest`` after subscribing and on every change of the service, whichever API
or node made it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from nacos_async.testing._grpc_connections import GrpcConnection
from nacos_async.testing._grpc_messages import (
    CLIENT_DISCONNECT,
    INVALID_PARAM,
    GrpcError,
    GrpcRequest,
    GrpcRoute,
    check_clusters,
    check_name,
    check_port,
    check_service,
    param_error,
)
from nacos_async.testing._grpc_push import NAMING_PUSH, Pusher
from nacos_async.testing._naming_store import (
    DEFAULT_CLUSTER,
    DEFAULT_GROUP,
    InstanceRecord,
    NamingStore,
    ServiceKey,
)

REGISTER, DEREGISTER, BATCH_REGISTER = (
    "registerInstance",
    "deregisterInstance",
    "batchRegisterInstance",
)


def _service_key(req: GrpcRequest) -> ServiceKey:
    namespace = check_name("namespaceId/tenant", req.text("namespace"))
    group = check_name("groupName", req.text("groupName") or DEFAULT_GROUP)
    name = check_service(req.text("serviceName"))
    if not name:
        raise param_error("serviceName", "the param can't be empty.")
    return req.flavor.namespace(namespace), group, name


def _instance(data: dict[str, Any], *, ephemeral: bool) -> InstanceRecord:
    """An ``Instance`` JSON object as the store keeps it (blank cluster is ``DEFAULT``)."""
    ip = data.get("ip")
    if not isinstance(ip, str) or not ip.strip():
        raise param_error("ip", "the param can't be empty.")
    port, weight = data.get("port", 0), data.get("weight", 1.0)
    if isinstance(port, bool) or not isinstance(port, int):
        raise param_error("port")
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise param_error("weight")
    cluster = data.get("clusterName")
    cluster = check_clusters(cluster) if isinstance(cluster, str) and cluster else DEFAULT_CLUSTER
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise param_error("metadata")
    return InstanceRecord(
        ip=ip.strip(),
        port=check_port(port),
        cluster=check_clusters(cluster)
        if isinstance(cluster, str) and cluster
        else DEFAULT_CLUSTER,
        weight=float(weight),
        healthy=data.get("healthy") is not False,
        enabled=data.get("enabled") is not False,
        ephemeral=ephemeral,
        metadata={str(k): _java_str(v) for k, v in metadata.items()},
    )


def _java_str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _needs_naming_module(connection: GrpcConnection) -> None:
    """``EphemeralClientOperationServiceImpl``: only ``module=naming`` connections are clients."""
    if connection.module != "naming":
        message = (
            f"Client [{connection.id}] connection already disconnect, "
            "can't register ephemeral instance."
        )
        raise GrpcError(
            CLIENT_DISCONNECT, message, result_code=CLIENT_DISCONNECT, response_type="ErrorResponse"
        )


def _unsupported(kind: str) -> GrpcError:
    return GrpcError(
        INVALID_PARAM,
        f"Unsupported request type {kind}",
        result_code=INVALID_PARAM,
        response_type="ErrorResponse",
    )


def publish(
    store: NamingStore, connection: GrpcConnection, key: ServiceKey, instances: list[InstanceRecord]
) -> None:
    """Make ``instances`` the connection's instances of ``key`` (empty: remove them), on every
    node of the cluster (Distro syncs a connection's client data to all of them)."""
    old = connection.published.pop(key, set())
    new = {(inst.ip, inst.port) for inst in instances}
    for node in store.everywhere():
        for ip, port in old - new:
            record = node.find(*key, ip, port)
            if record is not None and record.owner == connection.id:
                node.deregister(*key, ip, port)
        for inst in instances:
            node.register(*key, replace(inst, owner=connection.id, metadata=dict(inst.metadata)))
    if new:
        connection.published[key] = new


async def instance(req: GrpcRequest) -> dict[str, Any]:
    key = _service_key(req)
    kind = req.text("type")
    if kind == REGISTER:
        record = _instance(req.obj("instance"), ephemeral=True)  # the param filter runs first
        _needs_naming_module(req.connection)
        publish(req.state.naming, req.connection, key, [record])
    elif kind == DEREGISTER:
        publish(req.state.naming, req.connection, key, [])
    else:
        raise _unsupported(kind)
    return {"type": kind}


async def batch_instance(req: GrpcRequest) -> dict[str, Any]:
    key = _service_key(req)
    kind = req.text("type")
    if kind != BATCH_REGISTER:
        raise _unsupported(kind)
    records = [_instance(data, ephemeral=True) for data in req.objects("instances")]
    _needs_naming_module(req.connection)
    publish(req.state.naming, req.connection, key, records)
    return {"type": kind}


async def persistent_instance(req: GrpcRequest) -> dict[str, Any]:
    """A persistent instance: not bound to the connection, never expires, on every node."""
    key = _service_key(req)
    kind = req.text("type")
    nodes = req.state.naming.everywhere()
    if kind == REGISTER:
        record = _instance(req.obj("instance"), ephemeral=False)
        for node in nodes:
            node.register(*key, replace(record, metadata=dict(record.metadata)))
    elif kind == DEREGISTER:
        data = req.obj("instance")
        ip, port = data.get("ip"), data.get("port")
        if isinstance(ip, str) and isinstance(port, int):
            for node in nodes:
                node.deregister(*key, ip, port)
    else:
        raise _unsupported(kind)
    return {"type": kind}


def service_info(
    store: NamingStore, ref_time: int, key: ServiceKey, clusters: str, *, healthy_only: bool = False
) -> dict[str, Any]:
    """``ServiceInfo`` JSON: enabled instances (protect threshold applied), plain name."""
    namespace, group, name = key
    wanted = {c.strip() for c in clusters.split(",") if c.strip()}
    shown = store.select(namespace, group, name, clusters=wanted, healthy_only=healthy_only)
    return {
        "name": name,
        "groupName": group,
        "clusters": clusters,
        "cacheMillis": 10000,
        "hosts": shown.hosts(),
        "lastRefTime": ref_time,
        "checksum": "",
        "allIps": False,
        "reachProtectionThreshold": shown.protected,
        "valid": True,
    }


async def query(req: GrpcRequest) -> dict[str, Any]:
    key = _service_key(req)
    clusters = check_clusters(req.text("cluster"))
    healthy_only = req.flag("healthyOnly", False)
    info = service_info(
        req.state.naming, req.pusher.ref_time(), key, clusters, healthy_only=healthy_only
    )
    return {"serviceInfo": info}


async def service_list(req: GrpcRequest) -> dict[str, Any]:
    namespace = req.flavor.namespace(check_name("namespaceId/tenant", req.text("namespace")))
    group = check_name("groupName", req.text("groupName") or DEFAULT_GROUP)
    page_no, page_size = max(1, req.number("pageNo", 1)), req.number("pageSize", 10)
    page_size = page_size if page_size > 0 else 10
    names = [s.name for s in req.state.naming.list_services(namespace, group)]
    start = (page_no - 1) * page_size
    return {"count": len(names), "serviceNames": names[start : start + page_size]}


async def subscribe(req: GrpcRequest) -> dict[str, Any]:
    """(Un)subscribe this connection; answers the current ``serviceInfo`` either way."""
    key = _service_key(req)
    clusters = check_clusters(req.text("clusters"))
    connection = req.connection
    if not req.flag("subscribe", False):
        connection.subscriptions.pop(key, None)
    elif connection.module == "naming":  # other connections are no naming clients: no-op
        connection.subscriptions[key] = clusters
        push_service(req.state.naming, req.pusher, connection, key)
    info = service_info(req.state.naming, req.pusher.ref_time(), key, clusters)
    return {"message": "success", "serviceInfo": info}


def push_service(
    store: NamingStore, pusher: Pusher, connection: GrpcConnection, key: ServiceKey
) -> None:
    """Push ``NotifySubscriberRequest`` with the current ``serviceInfo`` (rebuilt per retry)."""
    if key not in connection.subscriptions:
        return

    def body() -> dict[str, Any]:
        clusters = connection.subscriptions.get(key, "")
        info = service_info(store, pusher.ref_time(), key, clusters)
        return {"serviceInfo": info, "module": "naming"}

    connection.spawn(
        ("naming", key), pusher.push(connection, "NotifySubscriberRequest", body, NAMING_PUSH)
    )


def routes() -> dict[str, GrpcRoute]:
    return {
        "InstanceRequest": GrpcRoute(instance, "InstanceResponse", "naming", "w"),
        "BatchInstanceRequest": GrpcRoute(batch_instance, "BatchInstanceResponse", "naming", "w"),
        "PersistentInstanceRequest": GrpcRoute(
            persistent_instance, "InstanceResponse", "naming", "w"
        ),
        "ServiceQueryRequest": GrpcRoute(query, "QueryServiceResponse", "naming", "r"),
        "ServiceListRequest": GrpcRoute(service_list, "ServiceListResponse", "naming", "r"),
        "SubscribeServiceRequest": GrpcRoute(subscribe, "SubscribeServiceResponse", "naming", "r"),
    }
