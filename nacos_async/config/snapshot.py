"""Local copies of configs: a snapshot written after every read, and a failover directory.

Layout of both: ``<dir>/<namespace>/<group>/<dataId>`` holding the raw content. Snapshots are
written to a temporary file and renamed over the old one, so a crash never leaves a torn file.
The failover directory is filled by an operator by hand and wins over the server.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from nacos_async.config.models import ConfigItem, ConfigKey, md5_hex

logger = logging.getLogger("nacos_async")


def _path(root: Path, key: ConfigKey) -> Path:
    return root / key.namespace / key.group / key.data_id  # names are validated: no separators


class ConfigFiles:
    """Reads and writes the files of one directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def read(self, key: ConfigKey) -> str | None:
        try:
            return _path(self.root, key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("cannot read local copy of %s: %s", key, exc)
            return None

    def write(self, key: ConfigKey, content: str) -> None:
        """Atomically replace the file: write a temporary file, then rename it."""
        target = _path(self.root, key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(content)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("cannot write snapshot of %s: %s", key, exc)

    def remove(self, key: ConfigKey) -> None:
        _path(self.root, key).unlink(missing_ok=True)

    def item(self, key: ConfigKey, source: str) -> ConfigItem | None:
        content = self.read(key)
        if content is None:
            return None
        return ConfigItem(content=content, md5=md5_hex(content), source=source)  # type: ignore[arg-type]
