"""Naming endpoints: v1 instance/beat/list/service list, v2 instance, v3 client and admin."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from typing import Any, Final

from aiohttp import web

from nacos_async.testing._config_store import normalize_namespace
from nacos_async.testing._errors import (
    INSTANCE_ERROR,
    INSTANCE_METADATA_ERROR,
    INSTANCE_NOT_FOUND,
    PARAMETER_VALIDATE_ERROR,
    SERVER_ERROR,
    SERVICE_ALREADY_EXIST,
    SERVICE_NOT_EXIST,
    WEIGHT_ERROR,
    ApiError,
    JsonText,
    json_response,
    nacos_api_error,
    ok,
    result,
    text,
)
from nacos_async.testing._naming_store import (
    DEFAULT_CLUSTER,
    InstanceRecord,
    NamingStore,
    Service,
    ServiceMetadata,
    split_service,
)
from nacos_async.testing._routing import Api, Ctx, Route, to_bool

OK_CODE, NOT_FOUND_CODE = 10200, 20404
_RS_INFO = "com.alibaba.nacos.naming.healthcheck.RsInfo"


def _service(ctx: Ctx) -> tuple[str, str, str]:
    """(namespace, group, name); ``serviceName`` may carry its group as ``group@@name``."""
    namespace = normalize_namespace(ctx.get("namespaceId"))
    group, name = split_service(ctx.required("serviceName"), ctx.get("groupName"))
    return namespace, group, name


def _number(ctx: Ctx, raw: str, kind: type[int] | type[float]) -> Any:
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ctx.bad(f'For input string: "{raw}"', PARAMETER_VALIDATE_ERROR) from None
    if kind is float and not math.isfinite(value):
        raise ctx.bad(f'For input string: "{raw}"', PARAMETER_VALIDATE_ERROR)
    return value


def parse_metadata(ctx: Ctx, raw: str | None) -> dict[str, str]:
    """``UtilsAndCommons.parseMetadata``: a JSON object of strings, else ``k=v,k2=v2``."""
    if raw is None or not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
        if isinstance(parsed, dict) and all(
            not isinstance(v, dict | list) for v in parsed.values()
        ):
            return {str(k): _java_str(v) for k, v in parsed.items()}
    except ValueError:
        pass
    metadata: dict[str, str] = {}
    for pair in raw.split(","):
        kv = pair.split("=")
        if len(kv) != 2:
            raise ctx.bad(f"metadata format incorrect:{raw}", INSTANCE_METADATA_ERROR)
        metadata[kv[0]] = kv[1]
    return metadata


def _java_str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _instance(ctx: Ctx) -> InstanceRecord:
    """``HttpRequestInstanceBuilder``: ip/port required, the rest with Nacos' defaults."""
    ip = ctx.required("ip")
    port = _number(ctx, ctx.required("port"), int)
    weight = _number(ctx, ctx.get("weight") or "1", float)
    if not 0.0 <= weight <= 10000.0:
        msg = "instance format invalid: The weights range from 0.0 to 10000.0"
        raise ctx.bad(msg, WEIGHT_ERROR)
    enabled = ctx.get("enabled") or ctx.get("enable")
    return InstanceRecord(
        ip=ip,
        port=port,
        cluster=ctx.get("clusterName") or ctx.get("cluster") or DEFAULT_CLUSTER,
        weight=weight,
        healthy=to_bool(ctx.get("healthy"), True),
        enabled=to_bool(enabled, True),
        ephemeral=to_bool(ctx.get("ephemeral"), True),
        metadata=parse_metadata(ctx, ctx.get("metadata")),
    )


def _targets(ctx: Ctx, ip: str, port: int) -> tuple[list[NamingStore], bool]:
    """The stores a write for ``ip:port`` lands in, the handling one first (see ``_cluster``).

    Only ``/v1/ns/*`` passes Nacos' DistroFilter, which forwards ``@CanDistro`` writes to the
    node responsible for ``ip:port``; v2 and v3 writes are handled where they arrive.
    """
    return ctx.state.naming.write_targets(ip, port, routed=ctx.route.path.startswith("/v1/ns/"))


def _register_on(
    stores: list[NamingStore], checked: bool, key: tuple[str, str, str], inst: InstanceRecord
) -> None:
    for store in stores:
        store.register(*key, replace(inst, checked=checked, metadata=dict(inst.metadata)))


def _beat_on(stores: list[NamingStore], key: tuple[str, str, str], ip: str, port: int) -> bool:
    """Beat on the handling (first) store; only what it knows is synced to the others."""
    handler, *others = stores
    if not handler.beat(*key, ip, port):
        return False
    for store in others:
        store.beat(*key, ip, port)
    return True


async def register(ctx: Ctx) -> web.StreamResponse:
    key = _service(ctx)
    inst = _instance(ctx)
    _register_on(*_targets(ctx, inst.ip, inst.port), key, inst)
    return _ok(ctx)


async def deregister(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    ip = ctx.required("ip")
    port = _number(ctx, ctx.required("port"), int)
    handler, *others = _targets(ctx, ip, port)[0]
    if handler.deregister(namespace, group, name, ip, port):  # else: unknown here, no sync
        for store in others:
            store.deregister(namespace, group, name, ip, port)
    return _ok(ctx)


async def update(ctx: Ctx) -> web.StreamResponse:
    """``InstanceOperatorClientImpl.updateInstance``: the service must exist; the instance
    (same address and cluster) takes the new weight, enabled flag and metadata. Instance
    metadata goes through Raft, so every node of a cluster takes it."""
    namespace, group, name = _service(ctx)
    inst = _instance(ctx)
    naming = ctx.state.naming
    if naming.service(namespace, group, name) is None:
        service = (
            f"Service{{namespace='{namespace}', group='{group}', name='{name}', "
            f"ephemeral={str(inst.ephemeral).lower()}, revision=0}}"
        )
        message = f"service not found, namespace: {namespace}, service: {service}"
        raise ctx.bad(message, INSTANCE_ERROR)
    for store in naming.everywhere():
        store.update(namespace, group, name, inst)
    return _ok(ctx)


def _ok(ctx: Ctx) -> web.Response:
    if ctx.route.api in (Api.V1_OPEN, Api.V1_ADMIN):
        return text("ok")
    return ok("ok")


def _beat_info(ctx: Ctx) -> dict[str, Any] | None:
    raw = ctx.get("beat")
    if raw is None or not raw.strip():
        return None
    try:
        beat = json.loads(raw)
        if not isinstance(beat, dict):
            raise ValueError(f"expected an object, got {type(beat).__name__}")
        if "port" in beat:
            beat["port"] = int(beat["port"])
        if "weight" in beat:
            beat["weight"] = float(beat["weight"])
    except (ValueError, TypeError) as exc:
        # Nacos answers NacosDeserializationException's text (with status 101, which no HTTP
        # client can read; we use 400).
        msg = (
            f"errCode: 101, errMsg: Nacos deserialize for class [{_RS_INFO}] failed, "
            f"cause error[{exc}]. "
        )
        raise ctx.bad(msg, PARAMETER_VALIDATE_ERROR) from None
    return beat


async def beat(ctx: Ctx) -> web.StreamResponse:
    """``InstanceController.beat``: 20404 for a light beat of a vanished instance."""
    info = _beat_info(ctx)
    cluster = ctx.get("clusterName") or DEFAULT_CLUSTER
    ip = ctx.get("ip") or ""
    port = _number(ctx, ctx.get("port") or "0", int)
    if info is not None:
        cluster = str(info.get("cluster") or cluster)
        ip = str(info.get("ip") or "")
        port = int(info.get("port") or 0)
    key = _service(ctx)
    stores, checked = _targets(ctx, ip, port)
    code = OK_CODE
    if not _beat_on(stores, key, ip, port):
        if info is None:
            code = NOT_FOUND_CODE
        else:
            # handleBeat registers the ephemeral client's instance from the beat info.
            metadata = info.get("metadata") or {}
            beaten = InstanceRecord(
                ip=ip,
                port=port,
                cluster=cluster,
                weight=float(info.get("weight", 1.0)),
                metadata={str(k): _java_str(v) for k, v in dict(metadata).items()},
            )
            _register_on(stores, checked, key, beaten)
    inst = stores[0].find(*key, ip, port)
    interval = inst.beat_interval_ms if inst else 5000
    return json_response({"clientBeatInterval": interval, "code": code, "lightBeatEnabled": True})


def _service_info(ctx: Ctx) -> dict[str, Any]:
    namespace, group, name = _service(ctx)
    clusters_param = ctx.get("clusters") or ctx.get("clusterName") or ""
    clusters = {c for c in clusters_param.split(",") if c}
    healthy_only = to_bool(ctx.get("healthyOnly"), False)
    shown = ctx.state.naming.select(
        namespace, group, name, clusters=clusters, healthy_only=healthy_only
    )
    return {
        "name": f"{group}@@{name}",
        "groupName": group,
        "clusters": clusters_param,
        "cacheMillis": 10000,
        "hosts": JsonText(shown.hosts_text()),
        "lastRefTime": int(ctx.state.wall_time() * 1000),
        "checksum": "",
        "allIps": False,
        "reachProtectionThreshold": shown.protected,
        "valid": True,
    }


async def list_v1(ctx: Ctx) -> web.StreamResponse:
    return json_response(_service_info(ctx))


async def list_v2(ctx: Ctx) -> web.StreamResponse:
    return ok(_service_info(ctx))


def _list_cluster(ctx: Ctx) -> str:
    """``InstanceListForm.fillDefaultValue``: a blank ``clusterName`` means ``DEFAULT``.

    There is no "every cluster" value; several clusters may be named, comma-separated.
    """
    cluster = ctx.get("clusterName") or ""
    return cluster if cluster.strip() else DEFAULT_CLUSTER


async def list_v3(ctx: Ctx) -> web.StreamResponse:
    """A bare list of the named clusters (``DEFAULT`` if none); ``healthyOnly`` is ignored."""
    namespace, group, name = _service(ctx)
    clusters = set(_list_cluster(ctx).split(","))
    shown = ctx.state.naming.select(namespace, group, name, clusters=clusters)
    return ok(JsonText(shown.hosts_text()))


async def list_v3_admin(ctx: Ctx) -> web.StreamResponse:
    """``InstanceControllerV3.list``: one cluster (``DEFAULT`` if none), disabled ones too,
    no protection; a missing service or cluster is a 404."""
    namespace, group, name = _service(ctx)
    cluster = _list_cluster(ctx)
    service = ctx.state.naming.service(namespace, group, name)
    if service is None:
        raise nacos_api_error(*SERVER_ERROR, f"service {group}@@{name} is not found!", 404)
    if cluster not in service.clusters:
        raise nacos_api_error(*SERVER_ERROR, f"cluster {cluster} is not found!", 404)
    healthy_only = to_bool(ctx.get("healthyOnly"), False)
    hosts = [
        inst.to_json(service.grouped_name)
        for inst in service.instances.values()
        if inst.cluster == cluster and (inst.healthy or not healthy_only)
    ]
    return ok(hosts)


async def register_or_beat_v3(ctx: Ctx) -> web.StreamResponse:
    """``POST /v3/client/ns/instance[?heartBeat=true]``: a beat of a missing one is 21003."""
    if not to_bool(ctx.get("heartBeat"), False):
        return await register(ctx)
    key = _service(ctx)
    inst = _instance(ctx)
    stores, _ = _targets(ctx, inst.ip, inst.port)
    if not _beat_on(stores, key, inst.ip, inst.port):
        return result(*INSTANCE_NOT_FOUND, None)
    return ok("ok")


async def detail_v1(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    ip = ctx.required("ip")
    port = _number(ctx, ctx.required("port"), int)
    inst = ctx.state.naming.find(namespace, group, name, ip, port)
    if inst is None:
        return text(f"no ips found for cluster DEFAULT in service {group}@@{name}", status=404)
    return json_response(
        {
            "service": f"{group}@@{name}",
            "ip": ip,
            "port": port,
            "clusterName": inst.cluster,
            "weight": inst.weight,
            "healthy": inst.healthy,
            "instanceId": f"{ip}#{port}#{inst.cluster}#{group}@@{name}",
            "metadata": inst.metadata,
        }
    )


def _page(ctx: Ctx, default_size: str) -> tuple[int, int]:
    """v1: both required, clamped; v3 ``PageForm``: defaults 1/100, below 1 is refused."""
    if ctx.route.api is Api.V1_OPEN:
        page_no, page_size = ctx.required("pageNo"), ctx.required("pageSize")
        return max(1, _number(ctx, page_no, int)), max(1, _number(ctx, page_size, int))
    numbers = []
    for field, default in (("pageNo", "1"), ("pageSize", default_size)):
        value = _number(ctx, ctx.get(field) or default, int)
        if value < 1:
            msg = f"Required parameter '{field}' should be positive integer, current is {value}"
            raise ctx.bad(msg, PARAMETER_VALIDATE_ERROR)
        numbers.append(value)
    return numbers[0], numbers[1]


async def service_list_v1(ctx: Ctx) -> web.StreamResponse:
    """``{"count":N,"doms":[names]}``; names carry no group prefix."""
    namespace = normalize_namespace(ctx.get("namespaceId"))
    page_no, page_size = _page(ctx, "10")
    group = ctx.get("groupName") or "DEFAULT_GROUP"
    names = [s.name for s in ctx.state.naming.list_services(namespace, group)]
    start = (page_no - 1) * page_size
    return json_response({"count": len(names), "doms": names[start : start + page_size]})


def _view(service: Service) -> dict[str, Any]:
    """``ServiceView``: counts, and whether the protect threshold would trigger."""
    ips = len(service.instances)
    healthy = sum(1 for i in service.instances.values() if i.healthy)
    trigger = ips > 0 and healthy / ips <= service.protect_threshold
    return {
        "name": service.name,
        "groupName": service.group,
        "clusterCount": len(service.clusters),
        "ipCount": ips,
        "healthyInstanceCount": healthy,
        "triggerFlag": "true" if trigger else "false",
    }


def _cluster_info(name: str, hosts: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {
        "clusterName": name,
        "healthChecker": {"type": "TCP"},
        "healthyCheckPort": 80,
        "useInstancePortForCheck": True,
        "metadata": {},
        "hosts": hosts,
    }


def _detail(service: Service, *, with_hosts: bool) -> dict[str, Any]:
    """``ServiceDetailInfo``: the detail API fills it all; the list fills names and hosts."""
    stored = service.stored or ServiceMetadata()
    clusters = {
        c: _cluster_info(
            c,
            [i.to_json(service.grouped_name) for i in service.instances.values() if i.cluster == c]
            if with_hosts
            else None,
        )
        for c in service.clusters
    }
    return {
        "namespaceId": None if with_hosts else service.namespace,
        "serviceName": service.name,
        "groupName": service.group,
        "clusterMap": clusters,
        "metadata": dict(stored.metadata),
        "protectThreshold": 0.0 if with_hosts else stored.protect_threshold,
        "selector": None if with_hosts else {"type": "none", "contextType": "NONE"},
        "ephemeral": None if with_hosts else stored.ephemeral,
    }


async def service_list_v3(ctx: Ctx) -> web.StreamResponse:
    """``ServiceControllerV3.list``: ``groupNameParam``/``serviceNameParam`` are regex
    substrings (``groupName`` is not read); ``PageUtil.subPage`` page arithmetic."""
    namespace = normalize_namespace(ctx.get("namespaceId"))
    page_no, page_size = _page(ctx, "100")
    try:
        services = ctx.state.naming.match_services(
            namespace, ctx.get("groupNameParam") or "", ctx.get("serviceNameParam") or ""
        )
    except re.error as exc:
        raise ApiError(result(SERVER_ERROR[0], str(exc), None, status=500)) from None
    with_instances = to_bool(ctx.get("withInstances"), False)
    if not with_instances and to_bool(ctx.get("ignoreEmptyService"), False):
        services = [s for s in services if s.instances]
    start = min((page_no - 1) * page_size, len(services))
    page = services[start : start + page_size]
    if with_instances:
        items = [_detail(s, with_hosts=True) for s in page]
    else:
        items = [_view(s) for s in page]
    total = len(services)
    return ok(
        {
            "totalCount": total,
            "pageNumber": page_no,
            "pagesAvailable": total // page_size + 1 if total else 0,
            "pageItems": items,
        }
    )


def _stored_metadata(ctx: Ctx) -> ServiceMetadata:
    threshold = _number(ctx, ctx.get("protectThreshold") or "0", float)
    return ServiceMetadata(
        protect_threshold=threshold,
        metadata=parse_metadata(ctx, ctx.get("metadata")),
        ephemeral=to_bool(ctx.get("ephemeral"), False),
    )


async def create_service(ctx: Ctx) -> web.StreamResponse:
    """``POST /v3/admin/ns/service`` (and v1): stores service metadata; exists already: 400."""
    namespace, group, name = _service(ctx)
    stored = _stored_metadata(ctx)
    naming = ctx.state.naming
    if naming.service(namespace, group, name) is not None:
        raise ctx.bad(f"specified service {group}@@{name} already exists!", SERVICE_ALREADY_EXIST)
    for store in naming.everywhere():
        store.store_service(namespace, group, name, replace(stored))
    return _ok(ctx)


async def update_service(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    stored = _stored_metadata(ctx)
    naming = ctx.state.naming
    if naming.service(namespace, group, name) is None:
        raise ctx.bad(f"service {group}@@{name} not found!", SERVICE_NOT_EXIST)
    for store in naming.everywhere():
        store.store_service(namespace, group, name, replace(stored))
    return _ok(ctx)


async def service_detail_v3(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    service = ctx.state.naming.service(namespace, group, name)
    if service is None:
        message = f"service not found, namespace: {namespace}, serviceName: {group}@@{name}"
        raise ctx.bad(message, SERVICE_NOT_EXIST)
    return ok(_detail(service, with_hosts=False))


async def metrics(ctx: Ctx) -> web.StreamResponse:
    """3.2+ keeps only ``{"status":"UP"}``; 2.x/3.1 add counts."""
    if ctx.state.traits.v1_removed:
        return json_response({"status": "UP"})
    naming = ctx.state.naming
    naming.sweep()
    all_services = list(naming.services.values())
    instances = sum(len(s.instances) for s in all_services)
    return json_response(
        {
            "status": "UP",
            "serviceCount": len(all_services),
            "instanceCount": instances,
            "subscribeCount": 0,
            "responsibleInstanceCount": instances,
            "clientCount": instances,
            "connectionBasedClientCount": 0,
            "ephemeralIpPortClientCount": instances,
            "persistentIpPortClientCount": 0,
            "cpu": 0.0,
            "load": 0.0,
            "mem": 0.0,
        }
    )


def routes() -> list[Route]:
    n: Final = "naming"
    v1: Final = "naming_v1"
    api: Final = "nacos_api"
    ins, v2 = "/v1/ns/instance", "/v2/ns/instance"
    v3c, v3a = "/v3/client/ns/instance", "/v3/admin/ns/instance"
    v3s = "/v3/admin/ns/service"
    a = "${contextPath:nacos}"
    return [
        Route("POST", ins, register, Api.V1_OPEN, v1, n, "w"),
        Route("DELETE", ins, deregister, Api.V1_OPEN, v1, n, "w"),
        Route("PUT", ins, update, Api.V1_ADMIN, v1, n, "w", alternative=f"PUT {a}{v3a}"),
        Route("GET", ins, detail_v1, Api.V1_ADMIN, v1, n, "r", alternative=f"GET {a}{v3a}"),
        Route("GET", f"{ins}/list", list_v1, Api.V1_OPEN, v1, n, "r"),
        Route("PUT", f"{ins}/beat", beat, Api.V1_OPEN, v1, n, "w"),
        Route("GET", "/v1/ns/service/list", service_list_v1, Api.V1_OPEN, v1, n, "r"),
        Route("POST", "/v1/ns/service", create_service, Api.V1_ADMIN, v1, n, "w",
              alternative=f"POST {a}{v3s}"),
        Route("PUT", "/v1/ns/service", update_service, Api.V1_ADMIN, v1, n, "w",
              alternative=f"PUT {a}{v3s}"),
        Route("GET", "/v1/ns/operator/metrics", metrics, Api.V1_METRICS, v1),
        Route("GET", "/v1/ns/ops/metrics", metrics, Api.V1_METRICS, v1),
        Route("POST", v2, register, Api.V2, api, n, "w", alternative=f"POST {a}{v3a}"),
        Route("DELETE", v2, deregister, Api.V2, api, n, "w", alternative=f"DELETE {a}{v3a}"),
        Route("PUT", v2, update, Api.V2, api, n, "w", alternative=f"PUT {a}{v3a}"),
        Route("GET", f"{v2}/list", list_v2, Api.V2, api, n, "r",
              alternative=f"GET {a}{v3a}/list"),
        Route("PUT", f"{v2}/beat", beat, Api.V2, api, n, "w"),
        Route("POST", v3c, register_or_beat_v3, Api.V3, api, n, "w"),
        Route("DELETE", v3c, deregister, Api.V3, api, n, "w"),
        Route("GET", f"{v3c}/list", list_v3, Api.V3, api, n, "r"),
        Route("POST", v3a, register, Api.V3, api, n, "w", admin=True),
        Route("DELETE", v3a, deregister, Api.V3, api, n, "w", admin=True),
        Route("PUT", v3a, update, Api.V3, api, n, "w", admin=True),
        Route("GET", f"{v3a}/list", list_v3_admin, Api.V3, api, n, "r", admin=True),
        Route("GET", f"{v3s}/list", service_list_v3, Api.V3, api, n, "r", admin=True),
        Route("POST", v3s, create_service, Api.V3, api, n, "w", admin=True),
        Route("PUT", v3s, update_service, Api.V3, api, n, "w", admin=True),
        Route("GET", v3s, service_detail_v3, Api.V3, api, n, "r", admin=True),
    ]  # fmt: skip
