"""What the config service needs from a protocol: one interface, one class per transport.

``HttpConfigBackend`` (v1/v3 over HTTP, long-poll or MD5 polling) implements it today; a gRPC
backend (queries, pushes) is one more class, and the service and watcher do not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from nacos_async.config.models import ConfigItem, ConfigKey


class ConfigBackend(Protocol):
    """Config reads and writes, and the detection of changes, over one protocol."""

    @property
    def watch_mode(self) -> str | None:
        """How changes are detected ("long-poll", "md5", "push"); None before the first turn."""
        ...

    async def get(self, key: ConfigKey) -> ConfigItem | None:
        """The config, or None when it does not exist."""
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
