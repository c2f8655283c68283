"""Login (v1 and v3 paths) and namespace endpoints."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from nacos_async.testing._auth import bearer_token
from nacos_async.testing._config_store import PUBLIC
from nacos_async.testing._errors import (
    LOGIN_FAILED_V1_3X,
    LOGIN_FAILED_V3_3X,
    ApiError,
    AuthFailure,
    json_response,
    login_failure_message,
    ok,
    text,
)
from nacos_async.testing._routing import Api, Ctx, Route


async def login(ctx: Ctx) -> web.StreamResponse:
    """``UserController.login``: a token on the request is validated instead of the password."""
    state = ctx.state
    state.stats.logins[ctx.route.path] += 1
    if ctx.route.api is Api.LOGIN_V1:
        # @RequestParam binding happens before the method body runs.
        ctx.required("username")
        ctx.required("password")
    token = bearer_token(ctx.request.headers.get("Authorization"), ctx.get("accessToken"))
    try:
        if token:
            state.stats.tokens_on_login += 1
            subject, exp = state.jwt.verify(token)
        else:
            user = state.users.check_password(ctx.get("username") or "", ctx.get("password") or "")
            subject = user.name
            token, exp = state.issue_token(subject)
    except AuthFailure as failure:
        message = login_failure_message(ctx.flavor, failure.kind)
        state.stats.login_failures[message] += 1
        if not state.traits.v3:
            # ConsoleExceptionHandler: 403 with the bare message.
            raise ApiError(text(message, status=403)) from None
        # 3.x port 8848: no handler for the AccessException, so a Spring 500 without the reason.
        rendered = LOGIN_FAILED_V3_3X if ctx.route.api is Api.LOGIN_V3 else LOGIN_FAILED_V1_3X
        raise ApiError(state.spring_error(ctx.request, 500, rendered)) from None
    body = {
        "accessToken": token,
        "tokenTtl": max(0, exp - int(state.wall_time())),
        "globalAdmin": state.users.is_admin(subject),
        "username": subject,
    }
    response = json_response(body)
    response.headers["Authorization"] = f"Bearer {token}"
    return response


def _namespace_rows(ctx: Ctx, v3: bool) -> list[dict[str, object]]:
    store = ctx.state.configs
    rows: list[dict[str, object]] = []
    for ns in store.namespaces.values():
        public = ns.id == PUBLIC
        rows.append(
            {
                "namespace": ns.id if (v3 or not public) else "",
                "namespaceShowName": ns.name,
                "namespaceDesc": "Public Namespace" if public else ns.desc,
                "quota": 200,
                "configCount": store.count_in(ns.id),
                "type": 0 if public else 2,
            }
        )
    return rows


async def namespaces_v1(ctx: Ctx) -> web.StreamResponse:
    return json_response({"code": 200, "message": None, "data": _namespace_rows(ctx, False)})


async def create_namespace_v1(ctx: Ctx) -> web.StreamResponse:
    ns_id = ctx.get("customNamespaceId") or ctx.required("namespaceName")
    ctx.state.configs.create_namespace(
        ns_id, ctx.required("namespaceName"), ctx.get("namespaceDesc") or ""
    )
    return json_response(True)


async def delete_namespace_v1(ctx: Ctx) -> web.StreamResponse:
    return json_response(ctx.state.configs.delete_namespace(ctx.required("namespaceId")))


async def namespaces_v3(ctx: Ctx) -> web.StreamResponse:
    return ok(_namespace_rows(ctx, True))


async def create_namespace_v3(ctx: Ctx) -> web.StreamResponse:
    ns_id = ctx.get("namespaceId") or ctx.required("namespaceName")
    ctx.state.configs.create_namespace(
        ns_id, ctx.required("namespaceName"), ctx.get("namespaceDesc") or ""
    )
    return ok(True)


async def delete_namespace_v3(ctx: Ctx) -> web.StreamResponse:
    return ok(ctx.state.configs.delete_namespace(ctx.required("namespaceId")))


def routes() -> list[Route]:
    ns: Final = "namespace"
    return [
        Route("POST", "/v1/auth/login", login, Api.LOGIN_V1, "config_v1"),
        Route("POST", "/v1/auth/users/login", login, Api.LOGIN_V1, "config_v1"),
        Route("POST", "/v3/auth/user/login", login, Api.LOGIN_V3),
        Route("GET", "/v1/console/namespaces", namespaces_v1, Api.V1_CONSOLE, secured=ns),
        Route("POST", "/v1/console/namespaces", create_namespace_v1, Api.V1_CONSOLE,
              secured=ns, action="w"),
        Route("DELETE", "/v1/console/namespaces", delete_namespace_v1, Api.V1_CONSOLE,
              secured=ns, action="w"),
        Route("GET", "/v3/admin/core/namespace/list", namespaces_v3, Api.V3, "nacos_api",
              secured=ns, admin=True),
        Route("POST", "/v3/admin/core/namespace", create_namespace_v3, Api.V3, "nacos_api",
              secured=ns, action="w", admin=True),
        Route("DELETE", "/v3/admin/core/namespace", delete_namespace_v3, Api.V3, "nacos_api",
              secured=ns, action="w", admin=True),
    ]  # fmt: skip
