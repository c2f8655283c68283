"""Naming over HTTP: the v1 (``/v1/ns/...``) and v3 client (``/v3/client/ns/...``) APIs.

Ephemeral instances live on heartbeats (``heartbeat.py``); watches poll the instance list.
Naming prefers v1 where the server still serves it (1.x-3.1): Nacos forwards v1 writes to the
node responsible for the instance (v3 client writes stay where they land, alibaba/nacos#14992),
v1 lists every cluster and filters groups exactly. On 3.2+ (v1 gone) the v3 client API lists
one cluster per name, ``DEFAULT`` when none is named, so the cluster names come from the v3
admin service detail; and the v3 admin service list matches groups as regular-expression
substrings, so the client quotes the group and keeps the exact matches itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nacos_async._concurrent import run_all
from nacos_async._runtime import Runtime
from nacos_async.errors import NacosAuthError, NacosBadRequestError
from nacos_async.names import DEFAULT_CLUSTER
from nacos_async.naming.backend import WatchKey
from nacos_async.naming.heartbeat import Beat, HeartbeatScheduler
from nacos_async.naming.models import Instance, InstanceSpec, hosts_from_json
from nacos_async.response import Response

logger = logging.getLogger("nacos_async")

_CLUSTERS_REMEMBERED = 1024  # services whose cluster names are kept (forgotten all at once)
V1_INSTANCE = "/v1/ns/instance"
V1_BEAT = "/v1/ns/instance/beat"
V3_INSTANCE = "/v3/client/ns/instance"
V3_ADMIN_INSTANCE = "/v3/admin/ns/instance"
V3_ADMIN_SERVICE = "/v3/admin/ns/service"
NOT_FOUND_V1 = 20404
NOT_FOUND_V3 = 21003
_HEARTBEAT = {"heartBeat": "true"}
SERVICE_NOT_EXIST = 21008
SCAN_PAGE_SIZE = 500  # services per page when reading a whole group from the v3 admin list


class _PerRegistration:
    """Request parameters built once per registration (heartbeats resend them every few
    seconds); a registration replaced by a new one gets new ones."""

    _LIMIT = 10_000  # past this many, all are forgotten at once

    def __init__(self) -> None:
        self._built: dict[tuple[str, str, str, str, int], tuple[InstanceSpec, dict[str, str]]] = {}

    def get(self, spec: InstanceSpec, build: Callable[[], dict[str, str]]) -> dict[str, str]:
        cached = self._built.get(spec.key)
        if cached is not None and cached[0] is spec:
            return cached[1]
        if len(self._built) >= self._LIMIT:
            self._built.clear()
        built = build()
        self._built[spec.key] = (spec, built)
        return built

    def forget(self, spec: InstanceSpec) -> None:
        self._built.pop(spec.key, None)


class HttpNamingBackend:
    """Builds the requests of each API family and reads their answers."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._send = runtime.send
        self._heartbeats = HeartbeatScheduler(
            self._register, self._beat, runtime, interval=runtime.settings.heartbeat_interval
        )
        self._forms = _PerRegistration()  # register and v3 beat forms
        self._cluster_lookup_refused: str | None = None  # why lists show DEFAULT only, if so
        self._light_beats = _PerRegistration()  # light v1 beat parameters
        self._clusters_seen: dict[tuple[str, str], list[str]] = {}  # (service, group) -> names

    @property
    def namespace(self) -> str:
        return self._runtime.settings.namespace

    def health(self) -> dict[str, Any]:
        health = self._heartbeats.health()
        if self._cluster_lookup_refused is not None:
            health["instance_lists"] = f"DEFAULT cluster only: {self._cluster_lookup_refused}"
        return health

    def stop(self) -> None:
        self._heartbeats.stop()

    async def register(self, spec: InstanceSpec) -> None:
        await self._register(spec)
        if spec.ephemeral:
            self._heartbeats.add(spec)

    async def deregister(self, spec: InstanceSpec) -> None:
        self._heartbeats.remove(spec)
        self._forms.forget(spec)
        self._light_beats.forget(spec)
        params = _identity(spec, self.namespace)

        async def v3() -> None:
            _expect_ok(await self._request("DELETE", V3_INSTANCE, params=params))

        async def v1() -> None:
            await self._request("DELETE", V1_INSTANCE, params=params)

        await self._runtime.api.call(v3, v1, prefer="v1")

    def keeps(self, spec: InstanceSpec) -> bool:
        return False  # a failed registration changed nothing: the heartbeats go on as before

    async def update(self, spec: InstanceSpec) -> None:
        """The v3 admin API on 3.x (v1 PUT is an admin API there too: 410 on 3.0/3.1, gone on
        3.2), which needs a token even with client auth off; v1 on 1.x/2.x."""
        form = self._form(spec)

        async def v3() -> None:
            _expect_ok(await self._request("PUT", V3_ADMIN_INSTANCE, data=form))

        async def v1() -> None:
            await self._request("PUT", V1_INSTANCE, data=form)

        await self._runtime.api.call(v3, v1)
        if spec.ephemeral and self._heartbeats.has(spec):
            self._heartbeats.add(spec)

    async def _register(self, spec: InstanceSpec) -> None:
        form = self._form(spec)

        async def v3() -> None:
            _expect_ok(await self._request("POST", V3_INSTANCE, data=form))

        async def v1() -> None:
            await self._request("POST", V1_INSTANCE, data=form)

        await self._runtime.api.call(v3, v1, prefer="v1")

    def _beat(self, spec: InstanceSpec, light: bool) -> Awaitable[Beat]:
        """One heartbeat; a light v1 beat omits the beat JSON (the server said it may)."""
        return self._runtime.api.call(self._beat_v3, self._beat_v1, spec, light, prefer="v1")

    def _beat_v3(self, spec: InstanceSpec, light: bool) -> Awaitable[Beat]:
        return self._send("POST", V3_INSTANCE, params=_HEARTBEAT, data=self._form(spec),
                          resource="naming", read=_beat_of_v3)  # fmt: skip

    def _beat_v1(self, spec: InstanceSpec, light: bool) -> Awaitable[Beat]:
        if light:  # the same identity every few seconds: built once per registration
            params = self._light_beats.get(spec, lambda: _identity(spec, self.namespace))
        else:
            params = _identity(spec, self.namespace) | {"beat": _beat_json(spec)}
        return self._send("PUT", V1_BEAT, params=params, resource="naming", read=_beat_of_v1)

    async def list_instances(
        self, service: str, group: str, clusters: list[str], healthy_only: bool
    ) -> list[Instance]:
        base = {"serviceName": service, "groupName": group, "namespaceId": self.namespace}
        joined = ",".join(clusters)

        async def listed(names: list[str]) -> list[Instance]:
            if not names:
                return []  # no such service, or no instance in any cluster
            params = base | {"clusterName": ",".join(names)}
            response = await self._request("GET", f"{V3_INSTANCE}/list", params=params)
            hosts = hosts_from_json(response.body, "v3")
            return hosts if hosts is not None else _instances(response, _expect_ok(response))

        async def v3() -> list[Instance]:
            if clusters:
                return await listed(clusters)
            seen = self._clusters_seen.get((service, group))
            if seen is None:
                current = await self._clusters(service, group)
                self._remember_clusters(service, group, current)
                return await listed(current)
            # the clusters seen last time are listed while the current ones are looked up:
            # one round trip, unless the service's clusters changed in between
            names: list[str] = []
            hosts: list[Instance] = []

            async def lookup() -> None:
                nonlocal names
                names = await self._clusters(service, group)

            async def list_seen() -> None:
                nonlocal hosts
                hosts = await listed(seen)

            await run_all((lookup, list_seen))
            if names == seen:
                return hosts
            self._remember_clusters(service, group, names)
            return await listed(names)

        async def v1() -> list[Instance]:
            params = (
                base
                | {"healthyOnly": _bool(healthy_only)}
                | ({"clusters": joined} if joined else {})
            )
            response = await self._request("GET", f"{V1_INSTANCE}/list", params=params)
            hosts = hosts_from_json(response.body, "v1")
            if hosts is not None:
                return hosts
            return _instances(response, response.json_object("instance list").get("hosts") or [])

        instances = await self._runtime.api.call(v3, v1, prefer="v1")
        instances = [i for i in instances if i.enabled]
        if clusters:
            instances = [i for i in instances if i.cluster_name in clusters]
        if healthy_only:  # the v3 client API ignores healthyOnly
            instances = [i for i in instances if i.healthy]
        return instances

    async def list_services(self, group: str, page: int, page_size: int) -> tuple[int, list[str]]:
        async def v3() -> tuple[int, list[str]]:
            names = await self._group_services(group)
            start = (page - 1) * page_size
            return len(names), names[start : start + page_size]

        async def v1() -> tuple[int, list[str]]:
            params = {"pageNo": str(page), "pageSize": str(page_size), "groupName": group,
                      "namespaceId": self.namespace}  # fmt: skip
            response = await self._request("GET", "/v1/ns/service/list", params=params)
            body = response.json_object("service list")
            doms = body.get("doms") or []
            if not isinstance(doms, list):
                raise response.protocol_error("service list 'doms' is not a list")
            return _count(response, body.get("count", 0)), [str(name) for name in doms]

        return await self._runtime.api.call(v3, v1, prefer="v1")

    def _remember_clusters(self, service: str, group: str, names: list[str]) -> None:
        if len(self._clusters_seen) >= _CLUSTERS_REMEMBERED:
            self._clusters_seen.clear()
        self._clusters_seen[service, group] = names

    async def _clusters(self, service: str, group: str) -> list[str]:
        """The service's cluster names from the v3 admin service detail ([]: no such service).

        Refused (an admin API: a token is needed even with client auth off): ``DEFAULT`` only,
        which is what the v3 client list shows, with a warning; a client without credentials
        does not ask again.
        """
        if self._cluster_lookup_refused is not None and not self._runtime.settings.auth_enabled:
            return [DEFAULT_CLUSTER]
        params = {"serviceName": service, "groupName": group, "namespaceId": self.namespace}
        try:
            response = await self._request("GET", V3_ADMIN_SERVICE, params=params)
        except NacosBadRequestError as exc:
            if exc.code == SERVICE_NOT_EXIST:
                return []
            raise
        except NacosAuthError as exc:
            if self._cluster_lookup_refused is None:
                logger.warning(
                    "instance lists of %s@@%s show the DEFAULT cluster only: the server refused "
                    "the cluster lookup (%s); name the clusters, give credentials, or use the "
                    "gRPC transport", group, service, exc,
                )  # fmt: skip
            self._cluster_lookup_refused = f"the server refused the cluster lookup: {exc}"[:300]
            return [DEFAULT_CLUSTER]
        self._cluster_lookup_refused = None
        data = _expect_ok(response)
        cluster_map = data.get("clusterMap") if isinstance(data, dict) else None
        if not isinstance(cluster_map, dict):
            raise response.protocol_error("service detail has no 'clusterMap' object")
        return sorted(str(name) for name in cluster_map)

    async def _group_services(self, group: str) -> list[str]:
        """Every service of exactly ``group``, from the v3 admin service list, every page.

        That list reads ``groupNameParam`` as a regular expression matched anywhere in the
        group (``groupName`` is not read) and counts every match: ask for the group quoted, keep
        the exact matches. Page count from ``totalCount`` (Nacos' ``pagesAvailable`` is
        ``total / size + 1``, one too many when the size divides the total).
        """
        names: dict[str, None] = {}
        page, pages = 1, 1
        while page <= pages:
            params = {"groupNameParam": _regex_literal(group), "pageNo": str(page),
                      "pageSize": str(SCAN_PAGE_SIZE), "namespaceId": self.namespace}  # fmt: skip
            response = await self._request("GET", f"{V3_ADMIN_SERVICE}/list", params=params)
            data = _expect_ok(response)
            if not isinstance(data, dict):
                raise response.protocol_error("service list 'data' is not an object")
            items = data.get("pageItems") or []
            if not isinstance(items, list):
                raise response.protocol_error("service list 'pageItems' is not a list")
            for item in items:
                name = item.get("name") if isinstance(item, dict) else None
                item_group = item.get("groupName") if isinstance(item, dict) else None
                if not isinstance(name, str) or not isinstance(item_group, str):
                    raise response.protocol_error(
                        f"service list item without 'name' and 'groupName': {item!r:.80}"
                    )
                if item_group == group:
                    names[name] = None
            if page == 1:
                pages = -(-_count(response, data.get("totalCount")) // SCAN_PAGE_SIZE)
            if not items:
                break
            page += 1
        return list(names)

    async def next_instances(self, key: WatchKey, *, first: bool) -> list[Instance]:
        if not first:
            await self._runtime.clock.sleep(self._runtime.settings.naming_poll_interval)
        service, group, clusters = key
        return await self.list_instances(service, group, list(clusters), healthy_only=False)

    async def unwatch(self, key: WatchKey) -> None:
        return None  # polling: nothing to tell the server

    def _form(self, spec: InstanceSpec) -> dict[str, str]:
        """The register/beat form (built once per spec: beats resend it every few seconds)."""
        return self._forms.get(spec, lambda: self._build_form(spec))

    def _build_form(self, spec: InstanceSpec) -> dict[str, str]:
        return {
            "serviceName": spec.service,
            "groupName": spec.group,
            "namespaceId": self.namespace,
            "ip": spec.ip,
            "port": str(spec.port),
            "clusterName": spec.cluster,
            "weight": repr(spec.weight),
            "enabled": _bool(spec.enabled),
            "healthy": _bool(spec.healthy),
            "ephemeral": _bool(spec.ephemeral),
            "metadata": json.dumps(spec.metadata, separators=(",", ":")),
        }

    async def _request(self, method: str, path: str, **kwargs: Any) -> Response:
        return await self._send(method, path, resource="naming", **kwargs)


def _expect_ok(response: Response, body: dict[str, Any] | None = None) -> Any:
    """The ``data`` of a v3 ``Result`` answer with code 0; an error otherwise."""
    body = body if body is not None else response.json_object()
    if body.get("code") != 0:
        raise response.error(f"unexpected answer {response.message!r}")
    return body.get("data")


def _instances(response: Response, hosts: Any) -> list[Instance]:
    """The hosts of an instance list answer; a ``NacosProtocolError`` for anything else."""
    if not isinstance(hosts, list):
        raise response.protocol_error(f"instance list is not a list: {type(hosts).__name__}")
    try:
        return Instance.list_from_wire(hosts)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise response.protocol_error(
            f"unreadable instance in the list: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None


def _count(response: Response, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise response.protocol_error(f"service list count is not an integer: {value!r:.40}")
    return value


def _regex_literal(text: str) -> str:
    """``text`` as a regular expression matching only itself, in Java's syntax and Python's
    (names hold letters, digits and ``_ - . :``; a backslash before any other sign is literal)."""
    return "".join(c if c.isalnum() or c == "_" else "\\" + c for c in text)


def _beat_of_v3(response: Response) -> Beat:
    body = response.json_object("beat answer")
    if body.get("code") == NOT_FOUND_V3:
        return Beat(found=False)
    _expect_ok(response, body)
    return Beat(found=True)


def _beat_of_v1(response: Response) -> Beat:
    body = response.json_object("beat answer")
    ms = body.get("clientBeatInterval")
    interval = ms / 1000 if isinstance(ms, int | float) and ms > 0 else None
    return Beat(
        found=body.get("code") != NOT_FOUND_V1,
        interval=interval,
        light=body.get("lightBeatEnabled") is True,
    )


def _identity(spec: InstanceSpec, namespace: str) -> dict[str, str]:
    return {
        "serviceName": spec.service,
        "groupName": spec.group,
        "namespaceId": namespace,
        "clusterName": spec.cluster,
        "ip": spec.ip,
        "port": str(spec.port),
        "ephemeral": _bool(spec.ephemeral),
    }


def _beat_json(spec: InstanceSpec) -> str:
    """The v1 full-beat body."""
    return json.dumps(
        {
            "ip": spec.ip,
            "port": spec.port,
            "serviceName": f"{spec.group}@@{spec.service}",
            "cluster": spec.cluster,
            "weight": spec.weight,
            "ephemeral": spec.ephemeral,
            "metadata": spec.metadata,
        },
        separators=(",", ":"),
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"
