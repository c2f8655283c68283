"""Config over gRPC (NACOS_GRPC.md §4): query, publish with CAS, remove, and push-fed watching.

Change detection (``changes``) for the generic watcher:
- listens are registered per connection with ``ConfigBatchListenRequest`` (each key with the MD5
  the client holds; the answer names the keys that differ) when keys are added, and dropped
  (``listen: false``) when they go;
- the server pushes ``ConfigChangeNotifyRequest`` (no content) on every change; the push is
  acked by the connection and the key is handed to the watcher, which re-reads it and delivers
  it only if its MD5 moved;
- after a new connection (a reconnect, a ConnectReset) every key is listened again and re-read,
  so nothing published while disconnected is missed;
- every ``config_recheck_interval`` all keys are listened again: a safety net under pushes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import anyio

from nacos_async._runtime import Runtime
from nacos_async.clock import within
from nacos_async.config.models import ConfigItem, ConfigKey, md5_hex
from nacos_async.errors import NacosConflictError, NacosConnectionError, NacosProtocolError
from nacos_async.grpc.answers import NOT_FOUND_OR_STARTING, SERVER_ERROR, answer_error
from nacos_async.grpc.channel import GrpcChannel

PUSH = "ConfigChangeNotifyRequest"
_DEFAULT_TENANTS = frozenset({"", "public"})  # 3.x spells the default namespace "public"


def _tenant(namespace: str) -> str:
    """The wire tenant: blank for the default namespace (2.x and 3.x both read it so)."""
    return "" if namespace == "public" else namespace


def _scope(key: ConfigKey) -> dict[str, str]:
    return {"tenant": _tenant(key.namespace), "group": key.group}


class GrpcConfigBackend:
    """``ConfigBackend`` over one client's gRPC config channel."""

    watch_mode = "push"

    def __init__(self, runtime: Runtime, channel: GrpcChannel) -> None:
        self._runtime = runtime
        self._channel = channel
        self._listened: set[ConfigKey] = set()  # keys listened on connection ``_generation``
        self._generation = 0
        self._pushed: set[ConfigKey] = set()
        self._wake = anyio.Event()
        self._next_recheck = -math.inf
        channel.on_push(PUSH, self._on_push)
        channel.add_listener(self._on_connected)

    # ----- reads and writes ---------------------------------------------------------------------
    async def content(self, key: ConfigKey) -> str | None:
        item = await self.get(key)
        return None if item is None else item.content

    async def get(self, key: ConfigKey) -> ConfigItem | None:
        body = {"dataId": key.data_id, "group": key.group, "tenant": _tenant(key.namespace)}
        answer = await self._channel.request(
            "ConfigQueryRequest", body, resource="config", scope=_scope(key),
            accept=(NOT_FOUND_OR_STARTING,),
        )  # fmt: skip
        if not answer.ok:
            return None  # errorCode 300: config data not exist
        content = answer.body.get("content")
        if not isinstance(content, str):
            raise NacosProtocolError(
                "ConfigQueryResponse has no 'content'", method="gRPC", path="ConfigQueryRequest",
                server=answer.server or None,
            )  # fmt: skip
        md5 = answer.body.get("md5")
        kind = answer.body.get("contentType")
        modified = answer.body.get("lastModified")
        return ConfigItem(
            content=content,
            md5=md5 if isinstance(md5, str) and md5 else md5_hex(content),
            type=kind if isinstance(kind, str) and kind else "text",
            last_modified=str(modified) if modified is not None else None,
        )

    async def publish(
        self, key: ConfigKey, content: str, config_type: str, cas_md5: str | None
    ) -> None:
        body: dict[str, Any] = {
            "dataId": key.data_id,
            "group": key.group,
            "tenant": _tenant(key.namespace),
            "content": content,
            "additionMap": {"type": config_type},
        }
        if cas_md5 is not None:
            body["casMd5"] = cas_md5
        answer = await self._channel.request(
            "ConfigPublishRequest", body, resource="config", scope=_scope(key),
            accept=(SERVER_ERROR,) if cas_md5 is not None else (),
        )  # fmt: skip
        if not answer.ok:  # errorCode 500 on a CAS publish: "Cas publish fail, ..."
            if "cas" not in answer.message.lower():
                raise answer_error(answer, request="ConfigPublishRequest")
            raise NacosConflictError(
                "publish lost a compare-and-set: the server's MD5 differs from cas_md5",
                method="gRPC", path="ConfigPublishRequest", server=answer.server or None,
                code=answer.error_code, server_message=answer.message or None,
            )  # fmt: skip

    async def delete(self, key: ConfigKey) -> None:
        body = {"dataId": key.data_id, "group": key.group, "tenant": _tenant(key.namespace)}
        await self._channel.request(
            "ConfigRemoveRequest", body, resource="config", scope=_scope(key)
        )

    # ----- change detection ---------------------------------------------------------------------
    async def changes(self, watched: Mapping[ConfigKey, str], *, fresh: bool) -> set[ConfigKey]:
        self._wake = anyio.Event()  # a push from here on ends the wait below
        connection = await self._channel.wait_connected()  # however long a reconnect takes
        changed: set[ConfigKey] = set()
        try:
            await self._sync(watched, changed)
        except NacosConnectionError:
            if connection.lost is None:
                raise
            return set()  # the connection went: the next one re-listens and re-reads every key
        if changed or connection.lost is not None:
            return changed
        await within(self._runtime.clock, self._next_recheck, self._wake.wait)
        return self._take_pushed(watched)

    async def _sync(self, watched: Mapping[ConfigKey, str], changed: set[ConfigKey]) -> None:
        """Bring the server's listens in line with ``watched``; collect keys that may differ."""
        generation = self._channel.generation
        if generation != self._generation:
            if self._generation:  # a new connection: nothing is listened there; re-read all
                changed.update(watched)
            self._listened.clear()
            self._generation = generation
            self._next_recheck = -math.inf
        gone = [key for key in self._listened if key not in watched]
        if gone:
            await self._listen({key: "" for key in gone}, listen=False)
            self._listened.difference_update(gone)
        clock = self._runtime.clock
        if clock.now() >= self._next_recheck:
            changed.update(await self._listen(watched))
            self._listened = set(watched)
            self._next_recheck = clock.now() + self._runtime.settings.config_recheck_interval
        else:
            new = {key: md5 for key, md5 in watched.items() if key not in self._listened}
            if new:
                changed.update(await self._listen(new))
                self._listened.update(new)
        changed.update(self._take_pushed(watched))

    async def _listen(
        self, probes: Mapping[ConfigKey, str], *, listen: bool = True
    ) -> set[ConfigKey]:
        """One ``ConfigBatchListenRequest``; returns the keys whose MD5 differs on the server."""
        contexts = [
            {"dataId": key.data_id, "group": key.group, "tenant": _tenant(key.namespace),
             "md5": md5}
            for key, md5 in probes.items()
        ]  # fmt: skip
        answer = await self._channel.request(
            "ConfigBatchListenRequest", {"listen": listen, "configListenContexts": contexts},
            resource="config",
        )  # fmt: skip
        if not listen:
            return set()
        reported = answer.body.get("changedConfigs")
        if not isinstance(reported, list):
            return set()
        return set(_keys(reported, probes))

    def _on_push(self, body: dict[str, Any]) -> None:
        key = _key_of(body)
        if key is not None:
            self._pushed.add(key)
            self._wake.set()

    def _on_connected(self, generation: int) -> None:
        self._wake.set()  # listen again on the new connection

    def _take_pushed(self, watched: Mapping[ConfigKey, str]) -> set[ConfigKey]:
        pushed, self._pushed = self._pushed, set()
        return {key for key in pushed if key in watched}


def _key_of(body: Mapping[str, Any]) -> ConfigKey | None:
    """The watched key a push or a ``changedConfigs`` entry names (tenant blank = public)."""
    data_id, group, tenant = body.get("dataId"), body.get("group"), body.get("tenant")
    if not isinstance(data_id, str) or not isinstance(group, str):
        return None
    namespace = tenant.strip() if isinstance(tenant, str) else ""
    return ConfigKey("public" if namespace in _DEFAULT_TENANTS else namespace, group, data_id)


def _keys(entries: Iterable[object], probes: Mapping[ConfigKey, str]) -> Iterable[ConfigKey]:
    for entry in entries:
        if isinstance(entry, dict):
            key = _key_of(entry)
            if key is not None and key in probes:
                yield key
