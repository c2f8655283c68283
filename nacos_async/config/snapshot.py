"""Local copies of configs: a snapshot of every value read, and a failover directory.

Layout of both: ``<dir>/<namespace>/<group>/<dataId>`` holding the raw content. A snapshot is
written to a temporary file, flushed to disk (fsync) and renamed over the old one, so a crash
never leaves a torn or empty file; temporary files a crash left behind are removed on start.
Only a newer value replaces a snapshot: every read takes a ticket before it is sent, and the
answer of an older ticket never overwrites the answer of a newer one (a slow ``get()`` cannot
put back a value the watcher already replaced). The file is rewritten only when the content
changed. The failover directory is filled by an operator by hand and wins over the server.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from pathlib import Path

from nacos_async.config.models import ConfigItem, ConfigKey, Source, md5_hex

logger = logging.getLogger("nacos_async")
_TEMP_SUFFIX = ".tmp"


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

    def item(self, key: ConfigKey, source: Source) -> ConfigItem | None:
        content = self.read(key)
        if content is None:
            return None
        return ConfigItem(content=content, md5=md5_hex(content), source=source)

    def write(self, key: ConfigKey, content: str) -> None:
        """Atomically and durably replace the file: temporary file, fsync, rename."""
        target = _path(self.root, key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=_TEMP_SUFFIX
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(content)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("cannot write snapshot of %s: %s", key, exc)

    def remove(self, key: ConfigKey) -> None:
        try:
            _path(self.root, key).unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("cannot remove snapshot of %s: %s", key, exc)

    def remove_temporary_files(self) -> int:
        """Delete the temporary files of writes a crash interrupted; returns how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.rglob(f".*{_TEMP_SUFFIX}"):
            try:
                path.unlink()
                removed += 1
            except OSError as exc:
                logger.warning("cannot remove leftover %s: %s", path, exc)
        return removed


class Snapshots:
    """The snapshot directory, written in the order reads were sent."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.files = ConfigFiles(root)
        self._tickets = itertools.count(1)
        self._latest: dict[ConfigKey, tuple[int, str | None]] = {}  # key -> (ticket, md5)
        self.files.remove_temporary_files()

    def ticket(self) -> int:
        """Take before sending a read; hand it back to ``record`` with the answer."""
        return next(self._tickets)

    def record(self, key: ConfigKey, item: ConfigItem | None, ticket: int) -> None:
        """Save the answer of read ``ticket`` (None: the config is gone) unless a newer one was."""
        seen = self._latest.get(key)
        if seen is not None and seen[0] > ticket:
            return  # a read sent later already answered
        md5 = item.md5 if item is not None else None
        self._latest[key] = (ticket, md5)
        if seen is not None and seen[1] == md5:
            return  # unchanged: no file write
        if item is None:
            self.files.remove(key)
        else:
            self.files.write(key, item.content)

    def item(self, key: ConfigKey) -> ConfigItem | None:
        return self.files.item(key, "snapshot")
