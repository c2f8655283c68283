"""Config endpoints: v1 CRUD and long-poll listener, v2, v3 client and admin."""

from __future__ import annotations

import re
from email.utils import formatdate
from typing import Any, Final
from urllib.parse import quote_plus

from aiohttp import web

from nacos_async.testing._config_store import (
    CasMismatch,
    ConfigItem,
    ConfigKey,
    normalize_namespace,
)
from nacos_async.testing._errors import (
    PARAMETER_VALIDATE_ERROR,
    RESOURCE_CONFLICT,
    RESOURCE_NOT_FOUND,
    json_response,
    ok,
    result,
    text,
)
from nacos_async.testing._routing import Api, Ctx, Route

_VALID = re.compile(r"^[\w\-.:]+$")  # letters, digits, _ - . : (\w covers Unicode letters)
_CONTENT_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
}
WORD, LINE = "\x02", "\x01"


def _valid(value: str) -> bool:
    return bool(_VALID.match(value))


def _check(ctx: Ctx, data_id: str, group: str, namespace: str | None) -> None:
    """``ParamUtils.checkTenant`` + ``checkParam``: allowed characters and lengths."""
    code = PARAMETER_VALIDATE_ERROR
    if namespace:
        if len(namespace) > 128:
            raise ctx.bad("too long tenant, over 128", code)
        if not _valid(namespace):
            raise ctx.bad("invalid tenant", code)
    if not data_id.strip() or not _valid(data_id.strip()):
        raise ctx.bad(f"invalid dataId : {data_id}", code)
    if not group.strip() or not _valid(group):
        raise ctx.bad(f"invalid group : {group}", code)


def _keys(ctx: Ctx, *, v3: bool = False) -> tuple[str, str, str]:
    """(namespace, group, dataId) from the parameter names of the route's API version."""
    api = ctx.route.api
    if api is Api.V1_OPEN:
        namespace = ctx.get("tenant") or ""
    else:
        namespace = ctx.get("namespaceId") or ctx.get("tenant") or ""
    data_id = ctx.required("dataId")
    group = ctx.required("groupName" if v3 else "group")
    _check(ctx, data_id, group, namespace)
    return namespace, group, data_id


def _config_headers(item: ConfigItem) -> dict[str, str]:
    return {
        "Config-Type": item.type,
        "Content-MD5": item.md5,
        "Last-Modified": formatdate(item.modify_time / 1000, usegmt=True),
        "Pragma": "no-cache",
        "Expires": formatdate(0, usegmt=True),
        "Cache-Control": "no-cache,no-store",
    }


async def get_v1(ctx: Ctx) -> web.StreamResponse:
    """Raw content and metadata headers, or 404 ``config data not exist``."""
    namespace, group, data_id = _keys(ctx)
    item = ctx.state.configs.get(namespace, group, data_id)
    if item is None:
        return text("config data not exist\n", status=404)
    content_type = _CONTENT_TYPES.get(item.type, "text/plain")
    response = text(item.content, content_type=content_type)
    response.headers.update(_config_headers(item))
    return response


def _publish(ctx: Ctx, *, v3: bool = False) -> ConfigItem:
    namespace, group, data_id = _keys(ctx, v3=v3)
    content = ctx.required("content")
    if not content.strip():
        raise ctx.bad(f"content is blank : {content}", PARAMETER_VALIDATE_ERROR)
    cas = ctx.request.headers.get("casMd5")
    return ctx.state.configs.publish(
        namespace,
        group,
        data_id,
        content,
        type=ctx.get("type"),
        cas_md5=cas or None,
        app_name=ctx.get("appName") or "",
        desc=ctx.get("desc") or "",
        config_tags=ctx.get("config_tags") or ctx.get("configTags") or "",
        src_user=ctx.get("src_user") or ctx.get("srcUser") or ctx.user or "",
        encrypted_data_key=ctx.get("encryptedDataKey") or "",
    )


async def publish_v1(ctx: Ctx) -> web.StreamResponse:
    try:
        _publish(ctx)
    except CasMismatch:
        if not ctx.state.traits.v3:
            return text("caused: Cas publish fail, server md5 may have changed.;", status=500)
        return json_response(False, status=500)
    return json_response(True)


async def delete_v1(ctx: Ctx) -> web.StreamResponse:
    namespace, group, data_id = _keys(ctx)
    return json_response(ctx.state.configs.delete(namespace, group, data_id))


def java_url_decode(value: str) -> str:
    """``URLDecoder.decode``: ``+`` is a space and a bad ``%`` escape is an error."""
    out = bytearray()
    i = 0
    raw = value.encode("utf-8")
    while i < len(raw):
        ch = raw[i]
        if ch == ord("+"):
            out.append(ord(" "))
            i += 1
        elif ch == ord("%"):
            if i + 2 >= len(raw):
                raise ValueError("URLDecoder: Incomplete trailing escape (%) pattern")
            pair = raw[i + 1 : i + 3].decode("latin-1")
            try:
                out.append(int(pair, 16))
            except ValueError:
                raise ValueError(
                    "URLDecoder: Illegal hex characters in escape (%) pattern - "
                    f'For input string: "{pair}" under radix 16'
                ) from None
            i += 3
        else:
            out.append(ch)
            i += 1
    return out.decode("utf-8", "replace")


def parse_listening_configs(probe: str) -> list[tuple[ConfigKey, str, str]]:
    """``MD5Util.getClientMd5Map``: ``(key, client md5, tenant as sent)`` per line."""
    entries: list[tuple[ConfigKey, str, str]] = []
    words: list[str] = []
    start = 0
    for i, ch in enumerate(probe):
        if ch == WORD:
            words.append(probe[start:i])
            start = i + 1
            if len(words) > 3:
                raise ValueError("invalid protocol,too much key")
        elif ch == LINE:
            end = probe[start:i]
            start = i + 1
            if len(words) < 2:
                raise ValueError("invalid probeModify")
            tenant, md5 = ("", end) if len(words) == 2 else (end, words[2])
            entries.append(((normalize_namespace(tenant), words[1], words[0]), md5, tenant))
            words = []
            if len(entries) > 10000:
                raise ValueError("invalid protocol, too much listener")
    return entries


async def listener_v1(ctx: Ctx) -> web.StreamResponse:
    """The long-poll: answer changed keys at once, else park until a change or the hold ends."""
    raw = ctx.get("Listening-Configs")
    if raw is None or not raw.strip():
        raise ctx.bad("invalid probeModify")
    try:
        probe = java_url_decode(raw)
    except ValueError as exc:
        raise ctx.bad(str(exc)) from None
    try:
        entries = parse_listening_configs(probe)
    except ValueError:
        raise ctx.bad("invalid probeModify") from None
    store = ctx.state.configs
    pairs = [(key, md5) for key, md5, _ in entries]
    headers = ctx.request.headers
    changed = store.changed(pairs)
    timeout_header = headers.get("Long-Pulling-Timeout")
    no_hangup = headers.get("Long-Pulling-Timeout-No-Hangup", "").lower() == "true"
    if not changed and timeout_header is not None and not no_hangup:
        try:
            requested = int(timeout_header) / 1000
        except ValueError:
            requested = 30.0
        hold = max(ctx.state.long_poll_min_hold, requested - 0.5)
        if await store.wait_for_change([key for key, _ in pairs], hold):
            changed = store.changed(pairs)
    tenants = {key: tenant for key, _, tenant in entries}
    body = "".join(
        f"{key[2]}{WORD}{key[1]}{WORD + tenants[key] if tenants[key] else ''}{LINE}"
        for key in changed
    )
    response = text(quote_plus(body, safe="*") + "\n" if changed else "")
    response.headers["Pragma"] = "no-cache"
    response.headers["Cache-Control"] = "no-cache,no-store"
    if timeout_header is None and changed:
        response.headers["Probe-Modify-Response-New"] = quote_plus(body, safe="*")
    return response


# ----- v2 --------------------------------------------------------------------------------------
async def get_v2(ctx: Ctx) -> web.StreamResponse:
    namespace, group, data_id = _keys(ctx)
    item = ctx.state.configs.get(namespace, group, data_id)
    if item is None:
        return result(*RESOURCE_NOT_FOUND, "config data not exist", status=404)
    return ok(item.content)


async def publish_v2(ctx: Ctx, *, v3: bool = False) -> web.StreamResponse:
    try:
        _publish(ctx, v3=v3)
    except CasMismatch:
        msg = "Cas publish fail, server md5 may have changed."
        return result(*RESOURCE_CONFLICT, msg, status=500)
    return ok(True)


async def delete_v2(ctx: Ctx, *, v3: bool = False) -> web.StreamResponse:
    namespace, group, data_id = _keys(ctx, v3=v3)
    return ok(ctx.state.configs.delete(namespace, group, data_id))


# ----- v3 --------------------------------------------------------------------------------------
async def get_v3_client(ctx: Ctx) -> web.StreamResponse:
    """``ConfigOpenApiController``: 200 with code 20004 when the config is missing."""
    namespace, group, data_id = _keys(ctx, v3=True)
    item = ctx.state.configs.get(namespace, group, data_id)
    if item is None:
        return result(*RESOURCE_NOT_FOUND, None)
    data: dict[str, Any] = {
        "resultCode": 200,
        "errorCode": 0,
        "message": None,
        "requestId": None,
        "content": item.content,
        "encryptedDataKey": item.encrypted_data_key or None,
        "contentType": item.type,
        "md5": item.md5,
        "lastModified": item.modify_time,
        "tag": None,
        "beta": False,
        "success": True,
    }
    return ok(data)


async def get_v3_admin(ctx: Ctx) -> web.StreamResponse:
    namespace, group, data_id = _keys(ctx, v3=True)
    item = ctx.state.configs.get(namespace, group, data_id)
    if item is None:
        msg = "Config not exist, please publish Config first."
        return result(*RESOURCE_NOT_FOUND, msg, status=404)
    return ok(
        {
            "id": str(item.id),
            "namespaceId": item.namespace,
            "groupName": item.group,
            "dataId": item.data_id,
            "md5": item.md5,
            "type": item.type,
            "appName": item.app_name,
            "createTime": item.create_time,
            "modifyTime": item.modify_time,
            "content": item.content,
            "desc": item.desc,
            "encryptedDataKey": item.encrypted_data_key,
            "createUser": item.src_user,
            "createIp": ctx.request.remote or "",
            "configTags": item.config_tags,
        }
    )


async def publish_v3(ctx: Ctx) -> web.StreamResponse:
    return await publish_v2(ctx, v3=True)


async def delete_v3(ctx: Ctx) -> web.StreamResponse:
    return await delete_v2(ctx, v3=True)


def routes() -> list[Route]:
    c: Final = "config"
    v1: Final = "config_v1"
    api: Final = "nacos_api"
    alt_admin = "${contextPath:nacos}/v3/admin/cs/config"
    return [
        Route("GET", "/v1/cs/configs", get_v1, Api.V1_OPEN, v1, c, "r"),
        Route("POST", "/v1/cs/configs", publish_v1, Api.V1_OPEN, v1, c, "w"),
        Route("DELETE", "/v1/cs/configs", delete_v1, Api.V1_OPEN, v1, c, "w"),
        Route("POST", "/v1/cs/configs/listener", listener_v1, Api.V1_OPEN, v1, c, "r"),
        Route("GET", "/v2/cs/config", get_v2, Api.V2, api, c, "r", alternative=f"GET {alt_admin}"),
        Route("POST", "/v2/cs/config", publish_v2, Api.V2, api, c, "w",
              alternative=f"POST {alt_admin}"),
        Route("DELETE", "/v2/cs/config", delete_v2, Api.V2, api, c, "w",
              alternative=f"DELETE {alt_admin}"),
        Route("GET", "/v3/client/cs/config", get_v3_client, Api.V3, "config_v3", c, "r"),
        Route("GET", "/v3/admin/cs/config", get_v3_admin, Api.V3, api, c, "r", admin=True),
        Route("POST", "/v3/admin/cs/config", publish_v3, Api.V3, api, c, "w", admin=True),
        Route("DELETE", "/v3/admin/cs/config", delete_v3, Api.V3, api, c, "w", admin=True),
    ]  # fmt: skip
