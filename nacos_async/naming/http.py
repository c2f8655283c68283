"""Naming over HTTP: the v1 (``/v1/ns/...``) and v3 client (``/v3/client/ns/...``) APIs.

Ephemeral instances live on heartbeats (``heartbeat.py``); watches poll the instance list.
"""

from __future__ import annotations

import json
from typing import Any

from nacos_async._runtime import Runtime
from nacos_async.naming.backend import WatchKey
from nacos_async.naming.heartbeat import Beat, HeartbeatScheduler
from nacos_async.naming.models import Instance, InstanceSpec, hosts_from_json
from nacos_async.response import Response

V1_INSTANCE = "/v1/ns/instance"
V3_INSTANCE = "/v3/client/ns/instance"
NOT_FOUND_V1 = 20404
NOT_FOUND_V3 = 21003


class HttpNamingBackend:
    """Builds the requests of each API family and reads their answers."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._send = runtime.send
        self._heartbeats = HeartbeatScheduler(
            self._register, self._beat, runtime, interval=runtime.settings.heartbeat_interval
        )
        self._forms: dict[tuple[str, str, str, str, int], tuple[InstanceSpec, dict[str, str]]] = {}

    @property
    def namespace(self) -> str:
        return self._runtime.settings.namespace

    def health(self) -> dict[str, Any]:
        return self._heartbeats.health()

    def stop(self) -> None:
        self._heartbeats.stop()

    async def register(self, spec: InstanceSpec) -> None:
        await self._register(spec)
        if spec.ephemeral:
            self._heartbeats.add(spec)

    async def deregister(self, spec: InstanceSpec) -> None:
        self._heartbeats.remove(spec)
        self._forms.pop(spec.key, None)
        params = _identity(spec, self.namespace)

        async def v3() -> None:
            _expect_ok(await self._request("DELETE", V3_INSTANCE, params=params))

        async def v1() -> None:
            await self._request("DELETE", V1_INSTANCE, params=params)

        await self._runtime.api.call(v3, v1)

    async def update(self, spec: InstanceSpec) -> None:
        """v1 only (the v3 client API has no update; 3.x admin API needs admin rights)."""
        await self._request("PUT", V1_INSTANCE, data=self._form(spec))
        if spec.ephemeral and self._heartbeats.has(spec):
            self._heartbeats.add(spec)

    async def _register(self, spec: InstanceSpec) -> None:
        form = self._form(spec)

        async def v3() -> None:
            _expect_ok(await self._request("POST", V3_INSTANCE, data=form))

        async def v1() -> None:
            await self._request("POST", V1_INSTANCE, data=form)

        await self._runtime.api.call(v3, v1)

    async def _beat(self, spec: InstanceSpec, light: bool) -> Beat:
        """One heartbeat; a light v1 beat omits the beat JSON (the server said it may)."""

        async def v3() -> Beat:
            response = await self._request(
                "POST", V3_INSTANCE, data=self._form(spec), params={"heartBeat": "true"}
            )
            body = response.json_object("beat answer")
            if body.get("code") == NOT_FOUND_V3:
                return Beat(found=False)
            _expect_ok(response, body)
            return Beat(found=True)

        async def v1() -> Beat:
            params = _identity(spec, self.namespace)
            if not light:
                params["beat"] = _beat_json(spec)
            response = await self._request("PUT", f"{V1_INSTANCE}/beat", params=params)
            body = response.json_object("beat answer")
            ms = body.get("clientBeatInterval")
            interval = ms / 1000 if isinstance(ms, int | float) and ms > 0 else None
            return Beat(
                found=body.get("code") != NOT_FOUND_V1,
                interval=interval,
                light=body.get("lightBeatEnabled") is True,
            )

        return await self._runtime.api.call(v3, v1)

    async def list_instances(
        self, service: str, group: str, clusters: list[str], healthy_only: bool
    ) -> list[Instance]:
        base = {"serviceName": service, "groupName": group, "namespaceId": self.namespace}
        joined = ",".join(clusters)

        async def v3() -> list[Instance]:
            params = base | ({"clusterName": joined} if joined else {})
            response = await self._request("GET", f"{V3_INSTANCE}/list", params=params)
            hosts = hosts_from_json(response.body, "v3")
            return hosts if hosts is not None else _instances(response, _expect_ok(response))

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

        instances = await self._runtime.api.call(v3, v1)
        instances = [i for i in instances if i.enabled]
        if clusters:
            instances = [i for i in instances if i.cluster_name in clusters]
        if healthy_only:  # the v3 client API ignores healthyOnly
            instances = [i for i in instances if i.healthy]
        return instances

    async def list_services(self, group: str, page: int, page_size: int) -> tuple[int, list[str]]:
        params = {"pageNo": str(page), "pageSize": str(page_size), "groupName": group,
                  "namespaceId": self.namespace}  # fmt: skip

        async def v3() -> tuple[int, list[str]]:
            response = await self._request("GET", "/v3/admin/ns/service/list", params=params)
            data = _expect_ok(response)
            if not isinstance(data, dict):
                raise response.protocol_error("service list 'data' is not an object")
            items = data.get("pageItems") or []
            if not isinstance(items, list):
                raise response.protocol_error("service list 'pageItems' is not a list")
            names = [
                str(item["name"]) for item in items if isinstance(item, dict) and "name" in item
            ]
            return _count(response, data.get("totalCount", len(names))), names

        async def v1() -> tuple[int, list[str]]:
            response = await self._request("GET", "/v1/ns/service/list", params=params)
            body = response.json_object("service list")
            doms = body.get("doms") or []
            if not isinstance(doms, list):
                raise response.protocol_error("service list 'doms' is not a list")
            return _count(response, body.get("count", 0)), [str(name) for name in doms]

        return await self._runtime.api.call(v3, v1)

    async def next_instances(self, key: WatchKey, *, first: bool) -> list[Instance]:
        if not first:
            await self._runtime.clock.sleep(self._runtime.settings.naming_poll_interval)
        service, group, clusters = key
        return await self.list_instances(service, group, list(clusters), healthy_only=False)

    async def unwatch(self, key: WatchKey) -> None:
        return None  # polling: nothing to tell the server

    def _form(self, spec: InstanceSpec) -> dict[str, str]:
        """The register/beat form (built once per spec: beats resend it every few seconds)."""
        cached = self._forms.get(spec.key)
        if cached is not None and cached[0] is spec:
            return cached[1]
        if len(self._forms) > 10_000:
            self._forms.clear()
        form = {
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
        self._forms[spec.key] = (spec, form)
        return form

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
