"""Config over gRPC: query, publish, remove, batch listen, and the change push (§4).

Listens register on the connection; every stored change, whether it came over gRPC or HTTP,
pushes ``ConfigChangeNotifyRequest`` to the connections listening on that key. The push carries
no content: the client listens again and queries.
"""

from __future__ import annotations

from typing import Any

from nacos_async.testing._config_store import CasMismatch, ConfigKey
from nacos_async.testing._grpc_connections import GrpcConnection
from nacos_async.testing._grpc_flavors import GrpcFlavor
from nacos_async.testing._grpc_messages import (
    INVALID_PARAM,
    SERVER_ERROR,
    GrpcError,
    GrpcRequest,
    GrpcRoute,
    check_name,
)
from nacos_async.testing._grpc_push import CONFIG_PUSH, Pusher

CONFIG_NOT_FOUND = (300, "config data not exist")
CAS_FAILED = "Cas publish fail, server md5 may have changed."


def _key(req: GrpcRequest) -> ConfigKey:
    """(namespace, group, dataId) of a config request, checked as the param filter does."""
    tenant = check_name("namespaceId/tenant", req.text("tenant"))
    data_id = check_name("dataId", req.text("dataId"))
    group = check_name("group", req.text("group"))
    return req.flavor.namespace(tenant), group, data_id


async def query(req: GrpcRequest) -> dict[str, Any]:
    namespace, group, data_id = _key(req)
    item = req.state.configs.get(namespace, group, data_id)
    if item is None:
        raise GrpcError(*CONFIG_NOT_FOUND)
    fields: dict[str, Any] = {
        "content": item.content,
        "contentType": item.type,
        "md5": item.md5,
        "lastModified": item.modify_time,
        "beta": False,
    }
    if item.encrypted_data_key:
        fields["encryptedDataKey"] = item.encrypted_data_key
    return fields


async def publish(req: GrpcRequest) -> dict[str, Any]:
    namespace, group, data_id = _key(req)
    if not data_id.strip():
        raise GrpcError(INVALID_PARAM, f"invalid dataId : {data_id}")
    if not group.strip():
        raise GrpcError(INVALID_PARAM, f"invalid group : {group}")
    content = req.text("content")
    if not content.strip():
        raise GrpcError(INVALID_PARAM, f"content is blank : {content}")
    extra = req.obj("additionMap")

    def addition(name: str) -> str:
        value = extra.get(name)
        return value if isinstance(value, str) else ""

    try:
        req.state.configs.publish(
            namespace,
            group,
            data_id,
            content,
            type=addition("type") or None,
            cas_md5=req.text("casMd5") or None,
            app_name=addition("appName"),
            desc=addition("desc"),
            config_tags=addition("config_tags"),
            src_user=addition("src_user") or req.user or "",
            encrypted_data_key=addition("encryptedDataKey"),
        )
    except CasMismatch:
        raise GrpcError(SERVER_ERROR, CAS_FAILED) from None
    return {}


async def remove(req: GrpcRequest) -> dict[str, Any]:
    namespace, group, data_id = _key(req)
    req.state.configs.delete(namespace, group, data_id)
    return {}


async def batch_listen(req: GrpcRequest) -> dict[str, Any]:
    """Register (or drop) listens on this connection; report keys whose MD5 differs."""
    listen = req.flag("listen", True)
    connection = req.connection
    store = req.state.configs
    changed: list[dict[str, str]] = []
    for context in req.objects("configListenContexts"):
        tenant = _field(context, "tenant")
        data_id = check_name("dataId", _field(context, "dataId"))
        group = check_name("group", _field(context, "group"))
        key = (req.flavor.namespace(check_name("namespaceId/tenant", tenant)), group, data_id)
        if not listen:
            connection.listens.pop(key, None)
            continue
        connection.listens[key] = tenant
        if store.md5(key) != _field(context, "md5"):
            changed.append({"group": group, "dataId": data_id, "tenant": tenant})
    return {"changedConfigs": changed}


def _field(context: dict[str, Any], name: str) -> str:
    value = context.get(name)
    return value if isinstance(value, str) else ""


def push_change(
    pusher: Pusher, flavor: GrpcFlavor, connection: GrpcConnection, key: ConfigKey
) -> None:
    """Push ``ConfigChangeNotifyRequest`` for ``key`` to a listening connection (with retries)."""
    listened = connection.listens.get(key)
    if listened is None:
        return
    _, group, data_id = key
    body: dict[str, Any] = {"dataId": data_id, "group": group}
    tenant = flavor.push_tenant(listened)
    if tenant is not None:
        body["tenant"] = tenant
    body["module"] = "config"
    connection.spawn(
        ("config", key),
        pusher.push(connection, "ConfigChangeNotifyRequest", lambda: body, CONFIG_PUSH),
    )


def routes() -> dict[str, GrpcRoute]:
    return {
        "ConfigQueryRequest": GrpcRoute(query, "ConfigQueryResponse", "config", "r"),
        "ConfigPublishRequest": GrpcRoute(publish, "ConfigPublishResponse", "config", "w"),
        "ConfigRemoveRequest": GrpcRoute(remove, "ConfigRemoveResponse", "config", "w"),
        "ConfigBatchListenRequest": GrpcRoute(
            batch_listen, "ConfigChangeBatchListenResponse", "config", "r"
        ),
    }
