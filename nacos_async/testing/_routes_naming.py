"""Naming endpoints: v1 instance/beat/list/service list, v2 instance, v3 client and admin."""

from __future__ import annotations

import json
import math
from typing import Any, Final

from aiohttp import web

from nacos_async.testing._config_store import normalize_namespace
from nacos_async.testing._errors import (
    INSTANCE_METADATA_ERROR,
    INSTANCE_NOT_FOUND,
    PARAMETER_VALIDATE_ERROR,
    WEIGHT_ERROR,
    json_response,
    ok,
    result,
    text,
)
from nacos_async.testing._naming_store import DEFAULT_CLUSTER, InstanceRecord, split_service
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


async def register(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    ctx.server.naming.register(namespace, group, name, _instance(ctx))
    return _ok(ctx)


async def deregister(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    ip = ctx.required("ip")
    port = _number(ctx, ctx.required("port"), int)
    ctx.server.naming.deregister(namespace, group, name, ip, port)
    return _ok(ctx)


async def update(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    inst = _instance(ctx)
    old = ctx.server.naming.find(namespace, group, name, inst.ip, inst.port)
    if old is None:
        raise ctx.bad(f"instance not exist: {inst.ip}:{inst.port}", INSTANCE_NOT_FOUND)
    inst.last_beat, inst.owner = old.last_beat, old.owner
    ctx.server.naming.services[(namespace, group, name)].instances[(inst.ip, inst.port)] = inst
    ctx.server.naming.changed((namespace, group, name))
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
    namespace, group, name = _service(ctx)
    naming = ctx.server.naming
    code = OK_CODE
    if not naming.beat(namespace, group, name, ip, port):
        if info is None:
            code = NOT_FOUND_CODE
        else:
            metadata = info.get("metadata") or {}
            naming.register(
                namespace,
                group,
                name,
                InstanceRecord(
                    ip=ip,
                    port=port,
                    cluster=cluster,
                    weight=float(info.get("weight", 1.0)),
                    ephemeral=bool(info.get("ephemeral", True)),
                    metadata={str(k): _java_str(v) for k, v in dict(metadata).items()},
                ),
            )
    inst = naming.find(namespace, group, name, ip, port)
    interval = inst.beat_interval_ms if inst else 5000
    return json_response({"clientBeatInterval": interval, "code": code, "lightBeatEnabled": True})


def _service_info(ctx: Ctx) -> dict[str, Any]:
    namespace, group, name = _service(ctx)
    clusters_param = ctx.get("clusters") or ctx.get("clusterName") or ""
    clusters = {c for c in clusters_param.split(",") if c}
    healthy_only = to_bool(ctx.get("healthyOnly"), False)
    hosts, protect = ctx.server.naming.select(
        namespace, group, name, clusters=clusters, healthy_only=healthy_only
    )
    return {
        "name": f"{group}@@{name}",
        "groupName": group,
        "clusters": clusters_param,
        "cacheMillis": 10000,
        "hosts": hosts,
        "lastRefTime": int(ctx.server.wall_time() * 1000),
        "checksum": "",
        "allIps": False,
        "reachProtectionThreshold": protect,
        "valid": True,
    }


async def list_v1(ctx: Ctx) -> web.StreamResponse:
    return json_response(_service_info(ctx))


async def list_v2(ctx: Ctx) -> web.StreamResponse:
    return ok(_service_info(ctx))


async def list_v3(ctx: Ctx) -> web.StreamResponse:
    """A bare list; ``healthyOnly`` is ignored by the v3 client API."""
    namespace, group, name = _service(ctx)
    cluster = ctx.get("clusterName") or ""
    hosts, _ = ctx.server.naming.select(
        namespace, group, name, clusters={c for c in cluster.split(",") if c}
    )
    return ok(hosts)


async def register_or_beat_v3(ctx: Ctx) -> web.StreamResponse:
    """``POST /v3/client/ns/instance[?heartBeat=true]``: a beat of a missing one is 21003."""
    if not to_bool(ctx.get("heartBeat"), False):
        return await register(ctx)
    namespace, group, name = _service(ctx)
    inst = _instance(ctx)
    if not ctx.server.naming.beat(namespace, group, name, inst.ip, inst.port):
        return result(*INSTANCE_NOT_FOUND, None)
    return ok("ok")


async def detail_v1(ctx: Ctx) -> web.StreamResponse:
    namespace, group, name = _service(ctx)
    ip = ctx.required("ip")
    port = _number(ctx, ctx.required("port"), int)
    inst = ctx.server.naming.find(namespace, group, name, ip, port)
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
    if ctx.route.api is Api.V1_OPEN:
        page_no, page_size = ctx.required("pageNo"), ctx.required("pageSize")
    else:
        page_no, page_size = ctx.get("pageNo") or "1", ctx.get("pageSize") or default_size
    return max(1, _number(ctx, page_no, int)), max(1, _number(ctx, page_size, int))


async def service_list_v1(ctx: Ctx) -> web.StreamResponse:
    """``{"count":N,"doms":[names]}``; names carry no group prefix."""
    namespace = normalize_namespace(ctx.get("namespaceId"))
    page_no, page_size = _page(ctx, "10")
    group = ctx.get("groupName") or "DEFAULT_GROUP"
    names = [s.name for s in ctx.server.naming.list_services(namespace, group)]
    start = (page_no - 1) * page_size
    return json_response({"count": len(names), "doms": names[start : start + page_size]})


async def service_list_v3(ctx: Ctx) -> web.StreamResponse:
    namespace = normalize_namespace(ctx.get("namespaceId"))
    page_no, page_size = _page(ctx, "100")
    services = ctx.server.naming.list_services(namespace, ctx.get("groupName"))
    if to_bool(ctx.get("ignoreEmptyService"), False):
        services = [s for s in services if s.instances]
    start = (page_no - 1) * page_size
    items = [
        {
            "name": s.name,
            "groupName": s.group,
            "clusterCount": len({i.cluster for i in s.instances.values()}),
            "ipCount": len(s.instances),
            "healthyInstanceCount": sum(1 for i in s.instances.values() if i.healthy),
            "triggerFlag": "false",
        }
        for s in services[start : start + page_size]
    ]
    pages = (len(services) + page_size - 1) // page_size
    return ok(
        {
            "totalCount": len(services),
            "pageNumber": page_no,
            "pagesAvailable": pages,
            "pageItems": items,
        }
    )


async def metrics(ctx: Ctx) -> web.StreamResponse:
    """3.2 keeps only ``{"status":"UP"}``; 2.x/3.1 add counts."""
    if ctx.flavor == "3.2":
        return json_response({"status": "UP"})
    naming = ctx.server.naming
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
    a = "${contextPath:nacos}"
    return [
        Route("POST", ins, register, Api.V1_OPEN, v1, n, "w"),
        Route("DELETE", ins, deregister, Api.V1_OPEN, v1, n, "w"),
        Route("PUT", ins, update, Api.V1_ADMIN, v1, n, "w", alternative=f"PUT {a}{v3a}"),
        Route("GET", ins, detail_v1, Api.V1_ADMIN, v1, n, "r", alternative=f"GET {a}{v3a}"),
        Route("GET", f"{ins}/list", list_v1, Api.V1_OPEN, v1, n, "r"),
        Route("PUT", f"{ins}/beat", beat, Api.V1_OPEN, v1, n, "w"),
        Route("GET", "/v1/ns/service/list", service_list_v1, Api.V1_OPEN, v1, n, "r"),
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
        Route("GET", f"{v3a}/list", list_v3, Api.V3, api, n, "r", admin=True),
        Route("GET", "/v3/admin/ns/service/list", service_list_v3, Api.V3, api, n, "r",
              admin=True),
    ]  # fmt: skip
