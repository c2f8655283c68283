"""``client.config``: get, publish (with compare-and-set), delete, watch, typed models."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, TypeVar

from nacos_async._latest import LatestSlot
from nacos_async._runtime import Runtime
from nacos_async.config import validation as check
from nacos_async.config.backend import ConfigBackend
from nacos_async.config.models import (
    ConfigChange,
    ConfigItem,
    ConfigKey,
    format_of,
    parse_model,
)
from nacos_async.config.snapshot import ConfigFiles, Snapshots
from nacos_async.config.watcher import ConfigWatcher, Listener
from nacos_async.errors import (
    NacosConfigParseError,
    NacosConnectionError,
    NacosNotFoundError,
    NacosTimeoutError,
    clip,
)
from nacos_async.names import DEFAULT_GROUP

if TYPE_CHECKING:
    from pydantic import BaseModel

logger = logging.getLogger("nacos_async")
M = TypeVar("M", bound="BaseModel")
_MISSING: Any = object()
_KEYS_REMEMBERED = 4096  # validated keys kept per client (forgotten all at once past this)


class ConfigService:
    """Dynamic configuration for one client; reached as ``client.config``."""

    def __init__(self, runtime: Runtime, backend: ConfigBackend) -> None:
        settings = runtime.settings
        self._runtime = runtime
        self._backend = backend
        self._snapshots = Snapshots(settings.snapshot_dir) if settings.snapshot_dir else None
        self._failover = ConfigFiles(settings.failover_dir) if settings.failover_dir else None
        self._watcher = ConfigWatcher(runtime, backend, self._snapshots)
        self._keys: dict[tuple[str, str, str | None], ConfigKey] = {}
        runtime.add_closer(self._close)
        runtime.add_health("config", self._watcher.health)

    def _key(self, data_id: str, group: str, namespace: str | None) -> ConfigKey:
        """The validated key; names checked once, then remembered (most apps read a few keys
        over and over)."""
        try:
            return self._keys[data_id, group, namespace]
        except (KeyError, TypeError):  # new, or not even hashable (then the check says why)
            pass
        key = ConfigKey(
            check.namespace(namespace or self._runtime.settings.namespace),
            check.group(group),
            check.data_id(data_id),
        )
        if len(self._keys) >= _KEYS_REMEMBERED:
            self._keys.clear()
        self._keys[data_id, group, namespace] = key
        return key

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
            key = self._keys[data_id, group, namespace]  # as _key does, without the call
        except (KeyError, TypeError):
            key = self._key(data_id, group, namespace)
        if self._failover is None and self._snapshots is None:
            content = await self._backend.content(key)  # no local copies: the server's answer
        else:
            item = await self._read(key)
            content = None if item is None else item.content
        if content is not None:
            return content
        if default is _MISSING:
            raise _not_found(key)
        return default

    async def get_with_meta(
        self, data_id: str, *, group: str = DEFAULT_GROUP, namespace: str | None = None
    ) -> ConfigItem:
        """Content, MD5, type, last-modified and where it came from (server, snapshot, failover)."""
        key = self._key(data_id, group, namespace)
        item = await self._read(key)
        if item is None:
            raise _not_found(key)
        return item

    async def _read(self, key: ConfigKey) -> ConfigItem | None:
        """The failover copy, else the server's answer (recorded as a snapshot), else, when no
        server answers, the snapshot."""
        if self._failover is not None:
            local = self._failover.item(key, "failover")
            if local is not None:
                return local
        snapshots = self._snapshots
        ticket = snapshots.ticket() if snapshots is not None else 0
        try:
            item = await self._backend.get(key)
        except (NacosConnectionError, NacosTimeoutError) as exc:
            saved = snapshots.item(key) if snapshots is not None else None
            if saved is None:
                raise
            logger.warning("no server answered; serving the snapshot of %s (%s)", key, exc)
            self._runtime.events.emit("snapshot_served", config=str(key))
            return saved
        if snapshots is not None:
            snapshots.record(key, item, ticket)
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
        fmt = format_of(item.type, format, data_id=data_id)
        return parse_model(item.content, model, fmt, name=data_id)

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
        await self._backend.publish(key, check.content(content), check.config_type(type), cas_md5)

    async def delete(
        self, data_id: str, *, group: str = DEFAULT_GROUP, namespace: str | None = None
    ) -> None:
        """Remove a config (no error if it does not exist)."""
        await self._backend.delete(self._key(data_id, group, namespace))

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
        slot: LatestSlot[ConfigChange] = LatestSlot()
        current = await self._watcher.subscribe(key, slot=slot)
        if initial:
            slot.put(current)
        try:
            async for change in slot:
                yield change
        finally:
            self._watcher.unsubscribe(key, slot=slot)

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
        if format is None:  # the config's own type (or its dataId's extension) decides, once
            item = await self.get_with_meta(data_id, group=group, namespace=namespace)
            fmt = format_of(item.type, None, data_id=data_id)
        else:
            fmt = format_of("text", format)
        async for change in self.watch(data_id, group=group, namespace=namespace, initial=initial):
            if change.content is None:
                logger.warning("config %s was deleted; keeping the last good model", data_id)
                continue
            try:
                yield parse_model(change.content, model, fmt, name=data_id)
            except NacosConfigParseError as exc:
                logger.warning("keeping the last good model: %s", exc)
                self._runtime.events.emit("config_invalid", config=data_id, error=str(exc))

    async def add_listener(
        self,
        data_id: str,
        listener: Listener,
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
    ) -> None:
        """Call ``listener(change)`` (sync or async) on every change of the config."""
        await self._watcher.subscribe(self._key(data_id, group, namespace), listener=listener)

    def remove_listener(
        self,
        data_id: str,
        listener: Listener,
        *,
        group: str = DEFAULT_GROUP,
        namespace: str | None = None,
    ) -> None:
        self._watcher.unsubscribe(self._key(data_id, group, namespace), listener=listener)

    async def _close(self) -> None:
        self._watcher.stop()


def _not_found(key: ConfigKey) -> NacosNotFoundError:
    return NacosNotFoundError(
        f"config {clip(key.data_id)} not found in group {clip(key.group)}", path=str(key)
    )
