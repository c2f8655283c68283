"""``LiveConfig``: a typed config that follows the server, for web apps and workers alike."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
from pydantic import BaseModel

from nacos_async.config.models import ConfigChange, format_of, parse_model
from nacos_async.errors import NacosError, NacosNotFoundError
from nacos_async.names import DEFAULT_GROUP

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

logger = logging.getLogger("nacos_async")
M = TypeVar("M", bound=BaseModel)
ChangeCallback = Callable[[M], Awaitable[None] | None]
ErrorCallback = Callable[[NacosError], Awaitable[None] | None]


class LiveConfig(Generic[M]):
    """A config parsed into ``model`` and kept current while the client runs.

    ``value`` is always the last good model: content that does not parse, or a deleted
    config, leaves it in place and sets ``error`` (cleared by the next good value). The format
    is ``format`` if given, else the config's type, else its dataId's extension.
    """

    def __init__(
        self,
        data_id: str,
        model: type[M],
        *,
        group: str = DEFAULT_GROUP,
        format: str | None = None,
    ) -> None:
        if format is not None:
            format_of("text", format)  # a bad format fails here, not at start-up
        self.data_id = data_id
        self.model = model
        self.group = group
        self.format = format
        self.updates = 0
        self.error: NacosError | None = None
        """Why the latest change was not applied (bad content, deleted config), else None."""
        self._value: M | None = None
        self._callbacks: list[ChangeCallback[M]] = []
        self._error_callbacks: list[ErrorCallback] = []
        self._updated = anyio.Event()
        self._client: NacosClient | None = None
        self._format: str | None = None

    def __repr__(self) -> str:
        state = f", error={type(self.error).__name__}" if self.error is not None else ""
        return f"LiveConfig({self.data_id!r}, {self.model.__name__}, updates={self.updates}{state})"

    @property
    def value(self) -> M:
        """The last good model."""
        if self._value is None:
            raise RuntimeError(f"config {self.data_id!r} is not loaded yet (the app did not start)")
        return self._value

    def on_change(self, callback: ChangeCallback[M]) -> ChangeCallback[M]:
        """Call ``callback(model)`` (sync or async) after every new good value; usable as a
        decorator. A callback that raises is logged and does not stop the others."""
        self._callbacks.append(callback)
        return callback

    def on_error(self, callback: ErrorCallback) -> ErrorCallback:
        """Call ``callback(error)`` (sync or async) when a change is not applied: content that
        does not parse, or the config deleted. ``value`` keeps the last good model."""
        self._error_callbacks.append(callback)
        return callback

    async def wait_for_update(self) -> M:
        """Wait until the next good value arrives, and return it."""
        await self._updated.wait()
        return self.value

    async def start(self, client: NacosClient) -> None:
        """Read the config now (start-up fails if it is missing or invalid), then follow it
        through the client's config watcher until ``stop()`` or the client closes."""
        if self._client is not None:
            raise RuntimeError(f"{self!r} is already started")
        # listen first, read second: a change published in between reaches the listener
        await client.config.add_listener(self.data_id, self._on_change, group=self.group)
        try:
            item = await client.config.get_with_meta(self.data_id, group=self.group)
            self._format = format_of(item.type, self.format, data_id=self.data_id)
            model = parse_model(item.content, self.model, self._format, name=self.data_id)
        except BaseException:
            client.config.remove_listener(self.data_id, self._on_change, group=self.group)
            raise
        if self.updates == 0:  # else a newer value arrived while reading
            self._value, self.error = model, None
        self._client = client

    async def stop(self) -> None:
        """Stop following the config; ``value`` keeps the last good model."""
        client, self._client = self._client, None
        if client is not None:
            client.config.remove_listener(self.data_id, self._on_change, group=self.group)

    async def _on_change(self, change: ConfigChange) -> None:
        fmt = self._format or format_of("text", self.format, data_id=self.data_id)
        await self._apply(change, fmt)

    async def _apply(self, change: ConfigChange, fmt: str) -> None:
        if change.content is None:
            error: NacosError = NacosNotFoundError(f"config {self.data_id!r} was deleted")
            await self._fail(error)
            return
        try:
            model = parse_model(change.content, self.model, fmt, name=self.data_id)
        except NacosError as exc:
            await self._fail(exc)
            return
        self._value, self.error = model, None
        self.updates += 1
        self._updated.set()
        self._updated = anyio.Event()
        await _call_each(self._callbacks, model)

    async def _fail(self, error: NacosError) -> None:
        self.error = error
        logger.warning("%s: keeping the last good value", error)
        await _call_each(self._error_callbacks, error)


async def _call_each(callbacks: list[Callable[[Any], Awaitable[None] | None]], arg: object) -> None:
    for callback in list(callbacks):
        try:
            result = callback(arg)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("LiveConfig callback %r failed", callback)
