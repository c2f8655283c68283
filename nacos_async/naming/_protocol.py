"""Naming over HTTP: the v1 (`/v1/ns/...`) and v3 client (`/v3/client/ns/...`) wire formats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from nacos_async.errors import NacosServerError
from nacos_async.naming.models import Instance
from nacos_async.response import Response

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

V1_INSTANCE = "/v1/ns/instance"
V3_INSTANCE = "/v3/client/ns/instance"
BEAT_OK_V1 = 10200
NOT_FOUND_V1 = 20404
NOT_FOUND_V3 = 21003
DEFAULT_BEAT_INTERVAL = 5.0


@dataclass(frozen=True)
class InstanceSpec:
    """What the client registered: enough to register again or to beat."""

    service: str
    group: str
    ip: str
    port: int
    cluster: str = "DEFAULT"
    weight: float = 1.0
    enabled: bool = True
    healthy: bool = True
    ephemeral: bool = True
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.group, self.service, self.cluster, self.ip, self.port)

    def form(self, namespace: str) -> dict[str, str]:
        return {
            "serviceName": self.service,
            "groupName": self.group,
            "namespaceId": namespace,
            "ip": self.ip,
            "port": str(self.port),
            "clusterName": self.cluster,
            "weight": repr(self.weight),
            "enabled": _bool(self.enabled),
            "healthy": _bool(self.healthy),
            "ephemeral": _bool(self.ephemeral),
            "metadata": json.dumps(self.metadata, separators=(",", ":")),
        }

    @cached_property
    def beat_json(self) -> str:
        """The v1 full-beat body (built once: a spec never changes)."""
        return json.dumps(
            {
                "ip": self.ip,
                "port": self.port,
                "serviceName": f"{self.group}@@{self.service}",
                "cluster": self.cluster,
                "weight": self.weight,
                "ephemeral": self.ephemeral,
                "metadata": self.metadata,
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class Beat:
    """A heartbeat's answer: was the instance known, when to beat next, may beats be light."""

    found: bool
    interval: float
    light: bool = False


class NamingProtocol:
    """Builds the requests of each API family and reads their answers."""

    def __init__(self, client: NacosClient) -> None:
        self._client = client

    @property
    def namespace(self) -> str:
        return self._client.settings.namespace

    async def register(self, spec: InstanceSpec) -> None:
        form = spec.form(self.namespace)

        async def v3() -> None:
            self._expect_ok(await self._post(V3_INSTANCE, form))

        async def v1() -> None:
            await self._post(V1_INSTANCE, form)

        await self._client.api.call(v3, v1)

    async def deregister(self, spec: InstanceSpec) -> None:
        params = _identity(spec, self.namespace)

        async def v3() -> None:
            self._expect_ok(await self._request("DELETE", V3_INSTANCE, params=params))

        async def v1() -> None:
            await self._request("DELETE", V1_INSTANCE, params=params)

        await self._client.api.call(v3, v1)

    async def update(self, spec: InstanceSpec) -> None:
        """v1 only (the v3 client API has no update; 3.x admin API needs admin rights)."""
        await self._request("PUT", V1_INSTANCE, data=spec.form(self.namespace))

    async def beat(self, spec: InstanceSpec, *, light: bool = False) -> Beat:
        """One heartbeat; a light v1 beat omits the beat JSON (the server said it may)."""
        interval = _interval_from_metadata(spec.metadata)

        async def v3() -> Beat:
            form = spec.form(self.namespace)
            response = await self._post(V3_INSTANCE, form, params={"heartBeat": "true"})
            code = response.nacos_code
            if code == NOT_FOUND_V3:
                return Beat(False, interval)
            self._expect_ok(response)
            return Beat(True, interval)

        async def v1() -> Beat:
            params = _identity(spec, self.namespace)
            if not light:
                params["beat"] = spec.beat_json
            body = (await self._request("PUT", f"{V1_INSTANCE}/beat", params=params)).json()
            if not isinstance(body, dict):
                raise NacosServerError(f"unexpected beat answer {body!r}")
            ms = body.get("clientBeatInterval")
            seconds = ms / 1000 if isinstance(ms, int | float) and ms > 0 else interval
            return Beat(
                body.get("code") != NOT_FOUND_V1, seconds, body.get("lightBeatEnabled") is True
            )

        return await self._client.api.call(v3, v1)

    async def list_instances(
        self, service: str, group: str, clusters: list[str], healthy_only: bool
    ) -> list[Instance]:
        """The service's instances, disabled ones dropped, filters applied client-side too."""
        base = {"serviceName": service, "groupName": group, "namespaceId": self.namespace}
        joined = ",".join(clusters)

        async def v3() -> list[Any]:
            params = base | ({"clusterName": joined} if joined else {})
            response = await self._request("GET", f"{V3_INSTANCE}/list", params=params)
            body = self._expect_ok(response)
            if not isinstance(body, list):
                raise response.protocol_error("instance list 'data' is not a list")
            return body

        async def v1() -> list[Any]:
            params = (
                base
                | {"healthyOnly": _bool(healthy_only)}
                | ({"clusters": joined} if joined else {})
            )
            response = await self._request("GET", f"{V1_INSTANCE}/list", params=params)
            body = response.json()
            if not isinstance(body, dict) or not isinstance(body.get("hosts", []), list):
                raise response.protocol_error("instance list has no 'hosts' list")
            hosts: list[Any] = body.get("hosts") or []
            return hosts

        hosts = await self._client.api.call(v3, v1)
        try:
            instances = [Instance.from_wire(h) for h in hosts]
        except (KeyError, TypeError, ValueError) as exc:
            raise NacosServerError(
                f"unreadable instance in the list of {service!r}: {exc}"
            ) from None
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
            data = self._expect_ok(response)
            items = data.get("pageItems", []) if isinstance(data, dict) else []
            return int(data.get("totalCount", len(items))), [str(i["name"]) for i in items]

        async def v1() -> tuple[int, list[str]]:
            body = (await self._request("GET", "/v1/ns/service/list", params=params)).json()
            return int(body.get("count", 0)), [str(n) for n in body.get("doms", [])]

        return await self._client.api.call(v3, v1)

    async def _post(
        self, path: str, form: dict[str, str], params: dict[str, str] | None = None
    ) -> Response:
        return await self._request("POST", path, data=form, params=params)

    async def _request(self, method: str, path: str, **kwargs: Any) -> Response:
        return await self._client.request(method, path, resource="naming", **kwargs)

    @staticmethod
    def _expect_ok(response: Response) -> Any:
        body = response.json()
        if not isinstance(body, dict) or body.get("code") != 0:
            raise response.error(f"unexpected answer {response.message!r}")
        return body.get("data")


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


def _interval_from_metadata(metadata: dict[str, str]) -> float:
    raw = metadata.get("preserved.heart.beat.interval")
    try:
        ms = float(raw) if raw is not None else 0.0
    except ValueError:
        ms = 0.0
    return ms / 1000 if ms > 0 else DEFAULT_BEAT_INTERVAL


def _bool(value: bool) -> str:
    return "true" if value else "false"
