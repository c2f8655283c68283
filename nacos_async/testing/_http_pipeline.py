"""The HTTP request pipeline: injected faults, flavor gate, auth filter, handler, access log.

It mirrors the real filter chain: compatibility (410) before auth (403) before the controller,
so a client sees the same answer in the same situation as against Java Nacos. Paths under
``/__dev__/`` skip it all and go to the control handler the server passes in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from nacos_async.testing import _routes_auth, _routes_config, _routes_naming
from nacos_async.testing._auth import bearer_token
from nacos_async.testing._config_store import normalize_namespace
from nacos_async.testing._errors import ApiError, AuthFailure, text
from nacos_async.testing._faults import gzip_bomb
from nacos_async.testing._naming_store import split_service
from nacos_async.testing._routing import Ctx, Router, merge_params
from nacos_async.testing._state import DevState

access_logger = logging.getLogger("nacos_async.testing.access")
_SECRET_PARAMS = {"accesstoken", "password", "token", "secretkey", "sk"}
_IDENTITY = ("Authorization", "accessToken", "username", "password")
CONTROL_PREFIX = "/__dev__/"

ControlHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _DroppedResponse(web.Response):
    """Returned after aborting the connection on purpose; never reaches the wire."""


class HttpPipeline:
    """Serves every HTTP path of one dev server from its state."""

    def __init__(self, state: DevState, control: ControlHandler) -> None:
        self._state = state
        self._control = control
        self._router = Router(
            _routes_auth.routes() + _routes_config.routes() + _routes_naming.routes()
        )
        self._closing: asyncio.Event | None = None  # made by application(), on the serving loop

    def application(self) -> web.Application:
        """A new aiohttp app running every request through the pipeline (one per start)."""
        max_size = max(32 * 1024 * 1024, self._state.max_form_size * 2)
        app = web.Application(client_max_size=max_size)
        app.middlewares.append(self._log_middleware)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._closing = asyncio.Event()
        return app

    def close(self) -> None:
        """The server is closing: requests held by injected latency go on at once."""
        if self._closing is not None:
            self._closing.set()

    @web.middleware
    async def _log_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response: web.StreamResponse = await handler(request)
            status = 0 if isinstance(response, _DroppedResponse) else response.status
            return response
        except asyncio.CancelledError:
            status = 0  # the connection went away (dropped by a fault or by the client)
            raise
        finally:
            self._state.stats.statuses[status] += 1
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    '%s "%s %s" %s %.1fms',
                    request.remote,
                    request.method,
                    redact(request),
                    status if status else "dropped",
                    (time.perf_counter() - started) * 1000,
                )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        state = self._state
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            return await self._control(request)
        await self._fault_delay()
        rule = state.faults.take(path[len(state.context_path) :])
        if rule is not None:
            state.stats.faults[f"fail:{rule.status}"] += 1
            if rule.status == 0:
                return _drop(request)
            if rule.inflated:
                body = gzip_bomb(rule.inflated)
                return web.Response(body=body, headers={"Content-Encoding": "gzip"})
            if rule.body:
                return text(rule.body, status=rule.status)
            return state.spring_error(request, rule.status, "injected fault")
        if state.context_path and not path.startswith(state.context_path + "/"):
            state.stats.requests[f"{request.method} {path}"] += 1
            return state.not_found(request)
        sub = path[len(state.context_path) :]
        route, refusal = self._router.resolve(state, request, sub)
        state.stats.requests[route.name if route else f"{request.method} {sub}"] += 1
        if refusal is not None or route is None:
            assert refusal is not None
            return refusal
        try:
            ctx = Ctx(request, await self._params(request), state, route)
            ctx.user = self._authenticate(ctx)
            return await route.handler(ctx)
        except ApiError as error:
            return error.response

    async def _fault_delay(self) -> None:
        latency = self._state.faults.latency
        if latency > 0 and self._closing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), latency)

    async def _params(self, request: web.Request) -> MultiDictProxy[str]:
        """Query plus form body; a form over ``max_form_size`` is ignored, as Tomcat does."""
        form: MultiDictProxy[str] | None = None
        if request.can_read_body and request.content_type == "application/x-www-form-urlencoded":
            body = await request.read()
            if len(body) <= self._state.max_form_size:
                decoded = body.decode(request.charset or "utf-8", "replace")
                form = MultiDictProxy(MultiDict(parse_qsl(decoded, keep_blank_values=True)))
        return merge_params(request.query, form)

    def _authenticate(self, ctx: Ctx) -> str | None:
        """The auth filter: identity bypass, token or username/password, then permission."""
        state = self._state
        route = ctx.route
        if route.secured is None:
            return None
        admin = route.admin and state.traits.v3
        if not (state.admin_auth if admin else state.auth):
            return None
        headers = ctx.request.headers
        key, value = state.identity_key, state.identity_value
        if key and value and headers.get(key) == value:
            return None
        identity = {name: headers.get(name) for name in _IDENTITY}
        lowered = {k.lower(): v for k, v in ctx.params.items()}
        for name in _IDENTITY:
            if name.lower() in lowered:
                identity[name] = lowered[name.lower()]
        try:
            token = bearer_token(identity["Authorization"], identity["accessToken"])
            name, pwd = identity["username"] or "", identity["password"] or ""
            user = state.identify(token, name, pwd)
            state.users.authorize(user, _resource(ctx), route.action)
            return user
        except AuthFailure as failure:
            message = state.refused(failure)
            raise ApiError(state.spring_error(ctx.request, 403, message)) from None


def _resource(ctx: Ctx) -> str:
    """``namespaceId:group:config/dataId`` or ``...:naming/serviceName``."""
    p = ctx.params
    if ctx.route.secured == "namespace":
        return "console/namespaces"
    namespace = normalize_namespace(p.get("tenant") or p.get("namespaceId"))
    if ctx.route.secured == "config":
        group = p.get("group") or p.get("groupName") or "*"
        return f"{namespace}:{group}:config/{p.get('dataId') or '*'}"
    service = p.get("serviceName") or ""
    if not service:
        return f"{namespace}:{p.get('groupName') or '*'}:naming/*"
    group, name = split_service(service, p.get("groupName"))
    return f"{namespace}:{group}:naming/{name}"


def _drop(request: web.Request) -> web.StreamResponse:
    """Abort the connection; the response returned is never written (status 0 in stats)."""
    if request.transport is not None:
        request.transport.abort()
    return _DroppedResponse(status=204)


def redact(request: web.Request) -> str:
    """The path and query with secret values replaced (safe for logs)."""
    if not request.query_string:
        return request.path
    parts = [
        f"{key}=***" if key.lower() in _SECRET_PARAMS else f"{key}={value}"
        for key, value in parse_qsl(request.query_string, keep_blank_values=True)
    ]
    return f"{request.path}?{'&'.join(parts)}"
