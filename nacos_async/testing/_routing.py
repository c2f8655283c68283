"""The route table and how each flavor gates it (serve, 404, 410 or 501), plus parameters.

Nacos 3.x keeps old APIs behind ``@Compatibility`` switches and 3.2 deletes them; clients
probe for APIs by these answers, so the gate is part of the protocol we emulate.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Literal

from aiohttp import web
from multidict import MultiDict, MultiDictProxy, MultiMapping

from nacos_async.testing._errors import (
    API_DEPRECATED,
    PARAMETER_MISSING,
    ApiError,
    Flavor,
    FlavorTraits,
    config_v1_error,
    nacos_api_error,
    naming_v1_error,
    text,
)

if TYPE_CHECKING:
    from nacos_async.testing._state import DevState


class Api(Enum):
    """Which family an endpoint belongs to; decides its fate per flavor."""

    LOGIN_V1 = "login-v1"
    LOGIN_V3 = "login-v3"
    V1_OPEN = "v1-open"  # @Compatibility(OPEN_API): kept in 3.0-3.1
    V1_ADMIN = "v1-admin"  # @Compatibility(ADMIN_API): 410 in 3.0-3.1
    V1_CONSOLE = "v1-console"  # @Compatibility(CONSOLE_API): 410 in 3.0-3.1
    V1_METRICS = "v1-metrics"  # the one v1 naming path 3.2 keeps
    V2 = "v2"  # ADMIN_API compat in 3.0-3.1
    V3 = "v3"


_SWITCH = {
    Api.V1_ADMIN: "nacos.core.api.compatibility.admin.enabled",
    Api.V2: "nacos.core.api.compatibility.admin.enabled",
    Api.V1_CONSOLE: "nacos.core.api.compatibility.console.enabled",
}

Style = Literal["config_v1", "config_v3", "naming_v1", "nacos_api", "plain"]
Secured = Literal["config", "naming", "namespace"] | None


@dataclass
class Ctx:
    """What a handler gets: the request, merged parameters and the server's state."""

    request: web.Request
    params: MultiDictProxy[str]
    state: DevState
    route: Route
    user: str | None = None

    @property
    def flavor(self) -> Flavor:
        return self.state.flavor

    def get(self, name: str, default: str | None = None) -> str | None:
        """``request.getParameter``: the query string first, then the form body."""
        return self.params.get(name, default)

    def required(self, name: str) -> str:
        """A required parameter, refused in the style of the controller behind the route."""
        value = self.params.get(name)
        style = self.route.style
        if style == "naming_v1":
            if not value:
                raise naming_v1_error(f"Param '{name}' is required.")
            return value
        if value is not None:
            return value
        if style == "nacos_api":
            return self._missing_api(name)
        if style == "config_v3":
            raise config_v1_error(f"Required parameter '{name}' type String is not present")
        msg = f"Required request parameter '{name}' for method parameter type String is not present"
        if style == "config_v1":
            raise ApiError(self.state.spring_error(self.request, 400, msg))
        raise ApiError(text(msg, status=400))

    def _missing_api(self, name: str) -> str:
        if self.route.api is Api.V3:
            data = f"Required parameter '{name}' type String is not present"
        else:
            data = (
                f"Required request parameter '{name}' for method parameter type String is not "
                "present"
            )
        raise nacos_api_error(*PARAMETER_MISSING, data)

    def bad(self, message: str, code: tuple[int, str] | None = None, status: int = 400) -> ApiError:
        """A validation error worded like the route's controller."""
        if self.route.style in ("config_v1", "config_v3"):
            return config_v1_error(message, status)
        if self.route.style == "naming_v1":
            return naming_v1_error(message, status)
        if self.route.style == "nacos_api" and code is not None:
            return nacos_api_error(code[0], code[1], message, status)
        return ApiError(text(f"caused: {message};", status=status))


Handler = Callable[[Ctx], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    """One endpoint: method, path below the context, handler and its auth/gating facts."""

    method: str
    path: str
    handler: Handler
    api: Api
    style: Style = "plain"
    secured: Secured = None
    action: Literal["r", "w"] = "r"
    admin: bool = False  # ADMIN_API in 3.x: checked with admin auth
    alternative: str = ""

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


class Router:
    """Exact-path lookup with per-flavor gating."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes: dict[str, dict[str, Route]] = {}
        for route in routes:
            self._routes.setdefault(route.path, {})[route.method] = route

    def resolve(
        self, state: DevState, request: web.Request, path: str
    ) -> tuple[Route | None, web.Response | None]:
        """The route to run, or the response the flavor gives instead."""
        traits = state.traits
        by_method = self._routes.get(path)
        route = by_method.get(request.method) if by_method is not None else None
        if route is not None and _served(traits, route.api):
            return route, None
        if route is not None and traits.compat_gone and route.api in _SWITCH:
            return None, _gone(state, request, route)  # ApiCompatibilityFilter, before Distro
        if path.startswith("/v1/ns/"):
            # DistroFilter (mapped on /v1/ns/* in every version, 3.2+ too): no controller
            # method for this method and path is "not implemented", via sendError.
            msg = f"no such api:{request.method}:{state.context_path}{path}"
            return None, state.spring_error(request, 501, msg)
        if (
            route is None
            and by_method is not None
            and _served(traits, next(iter(by_method.values())).api)
        ):
            verb = "is not supported" if traits.v3 else "not supported"
            msg = f"Request method '{request.method}' {verb}"
            return None, state.spring_error(request, 405, msg)
        return None, state.not_found(request)


def _served(traits: FlavorTraits, api: Api) -> bool:
    if api in (Api.V3, Api.LOGIN_V3) and not traits.v3:
        return False
    if traits.v1_removed:
        return api in (Api.LOGIN_V1, Api.LOGIN_V3, Api.V1_METRICS, Api.V3)
    return not (traits.compat_gone and api in _SWITCH)


def _gone(state: DevState, request: web.Request, route: Route) -> web.Response:
    switch = _SWITCH[route.api]
    if route.alternative:
        msg = (
            f"Current API will be deprecated, please use API(s) `{route.alternative}` instead, "
            f"or set `{switch}=true` in application.properties."
        )
    else:
        msg = (
            "Current API will be deprecated, If wanted continue to use, "
            f"please set `{switch}=true` in application.properties."
        )
    inner = json.dumps({"code": API_DEPRECATED, "message": msg}, separators=(",", ":"))
    return state.spring_error(request, 410, inner)


def merge_params(query: MultiMapping[str], form: MultiMapping[str] | None) -> MultiDictProxy[str]:
    """Query parameters first, then form fields: ``getParameter`` returns the first value."""
    merged: MultiDict[str] = MultiDict(query)
    if form is not None:
        for key, value in form.items():
            if isinstance(value, str):
                merged.add(key, value)
    return MultiDictProxy(merged)


def to_bool(value: str | None, default: bool) -> bool:
    """Commons-lang ``BooleanUtils.toBoolean``: true/on/yes/y/t in any case."""
    if value is None or value == "":
        return default
    return value.strip().lower() in ("true", "on", "yes", "y", "t")
