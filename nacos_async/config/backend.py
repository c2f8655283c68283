"""What the config service needs from a protocol: one interface, one class per transport.

``HttpConfigBackend`` (v1/v3 over HTTP, long-poll or MD5 polling) and ``GrpcConfigBackend``
(queries and pushes over gRPC, ``nacos_async.grpc.config``) implement it; the service and the
watcher do not know which one they use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from nacos_async.config.models import ConfigItem, ConfigKey
from nacos_async.errors import NacosClosedError


class ConfigBackend(Protocol):
    """Config reads and writes, and the detection of changes, over one protocol."""

    @property
    def watch_mode(self) -> str | None:
        """How changes are detected ("long-poll", "md5", "push"); None before the first turn."""
        ...

    def get(self, key: ConfigKey) -> Awaitable[ConfigItem | None]:
        """The config, or None when it does not exist (an awaitable: a backend may hand back
        the call that answers, one coroutine less on every read)."""
        ...

    def content(self, key: ConfigKey) -> Awaitable[str | None]:
        """The config's content alone, or None (a read that needs nothing else, as
        ``client.config.get``, has nothing else built)."""
        ...

    async def publish(
        self, key: ConfigKey, content: str, config_type: str, cas_md5: str | None
    ) -> None:
        """Create or replace; ``NacosConflictError`` when ``cas_md5`` no longer matches."""
        ...

    async def delete(self, key: ConfigKey) -> None: ...

    async def changes(self, watched: Mapping[ConfigKey, str], *, fresh: bool) -> set[ConfigKey]:
        """Wait until some of the ``watched`` keys (key -> MD5 the client holds) may differ on
        the server, and return those. ``fresh``: a key was just added; answer without holding.
        Returning an empty set is allowed (nothing changed this turn)."""
        ...


class BackendChosenAtStart:
    """The backend of the transport a client picks when it starts (HTTP, or gRPC), behind one
    object: ``client.config`` may be built before ``start()`` and never changes.

    ``chosen(build)`` gives that backend (building it on first use when ``build``), or None
    before the client has started (or, without ``build``, while nothing used it yet).
    """

    def __init__(self, chosen: Callable[[bool], ConfigBackend | None]) -> None:
        self._chosen = chosen
        self._resolved: ConfigBackend | None = None  # once chosen, it never changes
        # the chosen backend's own ``get`` once there is one: a read goes straight to it
        self.get: Callable[[ConfigKey], Awaitable[ConfigItem | None]] = self._first_get
        self.content: Callable[[ConfigKey], Awaitable[str | None]] = self._first_content

    def _backend(self) -> ConfigBackend:
        backend = self._resolved
        if backend is None:
            backend = self._resolved = self._chosen(True)
            if backend is None:
                raise NacosClosedError("client is closed (or was never started)")
            self.get = backend.get
            self.content = backend.content
        return backend

    @property
    def watch_mode(self) -> str | None:
        backend = self._chosen(False)
        return backend.watch_mode if backend is not None else None

    def _first_get(self, key: ConfigKey) -> Awaitable[ConfigItem | None]:
        return self._backend().get(key)

    def _first_content(self, key: ConfigKey) -> Awaitable[str | None]:
        return self._backend().content(key)

    async def publish(
        self, key: ConfigKey, content: str, config_type: str, cas_md5: str | None
    ) -> None:
        await self._backend().publish(key, content, config_type, cas_md5)

    async def delete(self, key: ConfigKey) -> None:
        await self._backend().delete(key)

    async def changes(self, watched: Mapping[ConfigKey, str], *, fresh: bool) -> set[ConfigKey]:
        return await self._backend().changes(watched, fresh=fresh)
