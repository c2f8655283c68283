"""``client.config``: get, publish (with compare-and-set), delete, watch, typed models."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from nacos_async._latest import LatestSlot
from nacos_async.config import validation as check
from nacos_async.config._protocol import ConfigProtocol
from nacos_async.config.models import (
    ConfigChange,
    ConfigItem,
    ConfigKey,
    NacosConfigParseError,
    format_of,
    parse_model,
)
from nacos_async.config.snapshot import ConfigFiles
from nacos_async.config.watcher import ConfigWatcher, Listener
from nacos_async.errors import NacosConnectionError, NacosNotFoundError, NacosTimeoutError

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

logger = logging.getLogger("nacos_async")
M = TypeVar("M", bound=BaseModel)
DEFAULT_GROUP = "DEFAULT_GROUP"
_MISSING: Any = object()


class ConfigService:
    """Dynamic configuration for one client; reached as ``client.config``."""

    def __init__(self, client: NacosClient) -> None:
        settings = client.settings
        self._client = client
        self._protocol = ConfigProtocol(client)
        self._snapshot = ConfigFiles(settings.snapshot_dir) if settings.snapshot_dir else None
        self._failover = ConfigFiles(settings.failover_dir) if settings.failover_dir else None
        self._watcher = ConfigWatcher(self._protocol, client, self._snapshot)
        client.add_closer(self._close)

    def _key(self, data_id: str, group: str, namespace: str | None) -> ConfigKey:
        return ConfigKey(
            check.namespace(namespace or self._client.settings.namespace),
            check.group(group),
            check.data_id(data_id),
        )

    async def get(
        self,
        data_id: str,
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
        default: Any = _MISSING,
    ) -> Any:
        """The config's content; ``NacosNotFoundError`` if missing, unless ``default`` is given."""
        try:
            return (await self.get_with_meta(data_id, group=group, namespace=namespace)).content
        except NacosNotFoundError:
            if default is _MISSING:
                raise
            return default

    async def get_with_meta(
        self, data_id: str, *, group: str = DEFAULT_GROUP, namespace: str | None = None
    ) -> ConfigItem:
        """Content, MD5, type, last-modified and where it came from (server, snapshot, failover)."""
        key = self._key(data_id, group, namespace)
        if self._failover is not None:
            local = self._failover.item(key, "failover")
            if local is not None:
                return local
        try:
            item = await self._protocol.get(key)
        except (NacosConnectionError, NacosTimeoutError) as exc:
            saved = self._snapshot.item(key, "snapshot") if self._snapshot else None
            if saved is None:
                raise
            logger.warning("no server answered; serving the snapshot of %s (%s)", key, exc)
            self._client.events.emit("snapshot_served", config=str(key))
            return saved
        if item is None:
            if self._snapshot is not None:
                self._snapshot.remove(key)
            raise NacosNotFoundError(f"config {data_id!r} not found in group {group!r}",
                                     path=str(key))  # fmt: skip
        if self._snapshot is not None:
            self._snapshot.write(key, item.content)
        return item

    async def get_model(
        self,
        data_id: str,
        model: type[M],
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
        format: str | None = None,
    ) -> M:
        """The config parsed by its type (or ``format``: json, yaml, properties, toml)."""
        item = await self.get_with_meta(data_id, group=group, namespace=namespace)
        return parse_model(item.content, model, format_of(item.type, format), name=data_id)

    async def publish(
        self,
        data_id: str,
        content: str,
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
        type: str = "text",
        cas_md5: str | None = None,
    ) -> None:
        """Create or replace a config; with ``cas_md5`` only if the server's MD5 still matches
        (``NacosConflictError`` otherwise)."""
        key = self._key(data_id, group, namespace)
        await self._protocol.publish(key, check.content(content), check.config_type(type), cas_md5)

    async def delete(
        self, data_id: str, *, group: str = DEFAULT_GROUP, namespace: str | None = None
    ) -> None:
        """Remove a config (no error if it does not exist)."""
        await self._protocol.delete(self._key(data_id, group, namespace))

    async def watch(
        self,
        data_id: str,
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
        initial: bool = False,
    ) -> AsyncGenerator[ConfigChange, None]:
        """Yield every change from now on (``content=None`` once deleted); with ``initial``, the
        current value first, so that no change can fall between a read and the watch. A slow
        consumer gets the latest value. Ends when the client closes."""
        key = self._key(data_id, group, namespace)
        watched = await self._watcher.watch(key)
        slot: LatestSlot[ConfigChange] = LatestSlot()
        if initial:
            slot.put(ConfigChange(data_id, key.group, key.namespace, watched.content, watched.md5))
        watched.slots.add(slot)
        try:
            async for change in slot:
                yield change
        finally:
            watched.slots.discard(slot)
            self._watcher.drop_if_idle(watched)

    async def watch_model(
        self,
        data_id: str,
        model: type[M],
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
        format: str | None = None,
        initial: bool = False,
    ) -> AsyncGenerator[M, None]:
        """Yield the model after every change that parses (with ``initial``, the current one
        first); bad content is reported and skipped, so the consumer keeps its last good model."""
        if format is None:  # the config's own type decides, once
            item = await self.get_with_meta(data_id, group=group, namespace=namespace)
            format = item.type
        fmt = format_of(format, None)
        async for change in self.watch(data_id, group=group, namespace=namespace, initial=initial):
            if change.content is None:
                logger.warning("config %s was deleted; keeping the last good model", data_id)
                continue
            try:
                yield parse_model(change.content, model, fmt, name=data_id)
            except NacosConfigParseError as exc:
                logger.warning("keeping the last good model: %s", exc)
                self._client.events.emit("config_invalid", config=data_id, error=str(exc))

    async def add_listener(
        self,
        data_id: str,
        listener: Listener,
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
    ) -> None:
        """Call ``listener(change)`` (sync or async) on every change of the config."""
        watched = await self._watcher.watch(self._key(data_id, group, namespace))
        watched.listeners.append(listener)

    def remove_listener(
        self,
        data_id: str,
        listener: Listener,
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
    ) -> None:
        watched = self._watcher.keys.get(self._key(data_id, group, namespace))
        if watched is not None and listener in watched.listeners:
            watched.listeners.remove(listener)
            self._watcher.drop_if_idle(watched)

    async def _close(self) -> None:
        self._watcher.stop()
