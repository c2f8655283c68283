"""Configs keyed by (namespace, group, dataId), with MD5s, CAS, persistence and change wake-ups.

Long-poll listeners park one future under every key they watch; a publish or delete resolves
the futures of that key only, so 10,000 held listeners cost no CPU while nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

PUBLIC = "public"
CONFIG_TYPES = {"properties", "xml", "json", "text", "html", "yaml", "toml", "unset"}

ConfigKey = tuple[str, str, str]
"""(namespace, group, dataId); the public namespace is always spelled ``public``."""


def normalize_namespace(namespace: str | None) -> str:
    """``""``, ``None`` and ``public`` are the same namespace in every Nacos version."""
    return namespace.strip() if namespace and namespace.strip() else PUBLIC


def md5_hex(content: str) -> str:
    """``MD5Utils.md5Hex(content, UTF-8)``: lowercase hex of the UTF-8 bytes."""
    return hashlib.md5(content.encode("utf-8")).hexdigest()


@dataclass
class ConfigItem:
    """One stored config with the metadata the v1/v2/v3 APIs report."""

    namespace: str
    group: str
    data_id: str
    content: str
    md5: str
    type: str = "text"
    app_name: str = ""
    desc: str = ""
    config_tags: str = ""
    src_user: str = ""
    encrypted_data_key: str = ""
    id: int = 0
    create_time: int = 0
    modify_time: int = 0


class CasMismatch(Exception):
    """The ``casMd5`` a publisher expected is not the stored MD5."""


@dataclass
class Namespace:
    """A namespace as the console APIs list it."""

    id: str
    name: str
    desc: str = ""


class ConfigStore:
    """In-memory configs, optionally mirrored to ``<data_dir>/configs.json``."""

    def __init__(
        self, data_dir: str | os.PathLike[str] | None, wall_time: Callable[[], float]
    ) -> None:
        self._wall_time = wall_time
        self._path = Path(data_dir) / "configs.json" if data_dir is not None else None
        self.items: dict[ConfigKey, ConfigItem] = {}
        self.namespaces: dict[str, Namespace] = {PUBLIC: Namespace(PUBLIC, "public", "")}
        self._waiters: dict[ConfigKey, set[asyncio.Future[None]]] = {}
        self._parked: asyncio.Event | None = None
        self.change_hooks: list[Callable[[ConfigKey], None]] = []  # e.g. the gRPC pusher
        self._next_id = 1
        self.load()

    # ----- persistence -------------------------------------------------------------------------
    def load(self) -> None:
        """Forget memory and read the data directory (if any); a restart calls this."""
        self.items.clear()
        self.namespaces = {PUBLIC: Namespace(PUBLIC, "public", "")}
        if self._path is None or not self._path.exists():
            return
        raw = json.loads(self._path.read_text("utf-8"))
        for entry in raw.get("configs", []):
            item = ConfigItem(**entry)
            self.items[(item.namespace, item.group, item.data_id)] = item
            self._next_id = max(self._next_id, item.id + 1)
        for entry in raw.get("namespaces", []):
            ns = Namespace(**entry)
            self.namespaces[ns.id] = ns

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "configs": [asdict(item) for item in self.items.values()],
            "namespaces": [asdict(ns) for ns in self.namespaces.values() if ns.id != PUBLIC],
        }
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".configs-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, self._path)

    # ----- CRUD --------------------------------------------------------------------------------
    def get(self, namespace: str | None, group: str, data_id: str) -> ConfigItem | None:
        return self.items.get((normalize_namespace(namespace), group, data_id))

    def md5(self, key: ConfigKey) -> str:
        """The stored MD5, ``""`` for a missing config (``Constants.NULL``)."""
        item = self.items.get(key)
        return item.md5 if item else ""

    def publish(
        self,
        namespace: str | None,
        group: str,
        data_id: str,
        content: str,
        *,
        type: str | None = None,
        cas_md5: str | None = None,
        app_name: str = "",
        desc: str = "",
        config_tags: str = "",
        src_user: str = "",
        encrypted_data_key: str = "",
    ) -> ConfigItem:
        """Store and wake listeners; ``cas_md5`` (when given) must equal the stored MD5."""
        key = (normalize_namespace(namespace), group, data_id)
        old = self.items.get(key)
        # Nacos' insertOrUpdateCas inserts a missing config whatever casMd5 says.
        if cas_md5 and old is not None and old.md5 != cas_md5:
            raise CasMismatch(key)
        now = int(self._wall_time() * 1000)
        config_type = type if type in CONFIG_TYPES else (old.type if old and not type else "text")
        item = ConfigItem(
            namespace=key[0],
            group=group,
            data_id=data_id,
            content=content,
            md5=md5_hex(content),
            type=config_type,
            app_name=app_name,
            desc=desc,
            config_tags=config_tags,
            src_user=src_user,
            encrypted_data_key=encrypted_data_key,
            id=old.id if old else self._next_id,
            create_time=old.create_time if old else now,
            modify_time=now,
        )
        if old is None:
            self._next_id += 1
        self.items[key] = item
        self._save()
        self._changed(key)
        return item

    def delete(self, namespace: str | None, group: str, data_id: str) -> bool:
        """Remove (a missing config is fine, as in Nacos) and wake listeners."""
        key = (normalize_namespace(namespace), group, data_id)
        if self.items.pop(key, None) is not None:
            self._save()
            self._changed(key)
        return True

    def clear(self) -> None:
        """Drop every config (and the data file's contents)."""
        keys = list(self.items)
        self.items.clear()
        self._save()
        for key in keys:
            self._changed(key)

    # ----- namespaces --------------------------------------------------------------------------
    def create_namespace(self, namespace_id: str, name: str = "", desc: str = "") -> Namespace:
        ns = Namespace(namespace_id, name or namespace_id, desc)
        self.namespaces[namespace_id] = ns
        self._save()
        return ns

    def delete_namespace(self, namespace_id: str) -> bool:
        removed = self.namespaces.pop(namespace_id, None) is not None
        self._save()
        return removed

    def count_in(self, namespace: str) -> int:
        return sum(1 for key in self.items if key[0] == namespace)

    # ----- change notification ------------------------------------------------------------------
    @property
    def listener_count(self) -> int:
        """How many long-poll requests are parked right now."""
        waiters: set[asyncio.Future[None]] = set()
        for futures in self._waiters.values():
            waiters.update(futures)
        return len(waiters)

    def changed(self, probe: Iterable[tuple[ConfigKey, str]]) -> list[ConfigKey]:
        """Keys whose client MD5 differs from the server's (a deletion counts)."""
        return [key for key, client_md5 in probe if self.md5(key) != client_md5]

    async def wait_for_change(self, keys: Iterable[ConfigKey], hold: float) -> bool:
        """Park until one of ``keys`` changes (True) or ``hold`` seconds pass (False)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        watched = list(dict.fromkeys(keys))
        for key in watched:
            self._waiters.setdefault(key, set()).add(future)
        if self._parked is not None:
            self._parked.set()
        try:
            await asyncio.wait_for(future, hold)
            return True
        except TimeoutError:
            return False
        finally:
            for key in watched:
                futures = self._waiters.get(key)
                if futures is not None:
                    futures.discard(future)
                    if not futures:
                        del self._waiters[key]

    async def wait_for_listeners(self, count: int) -> None:
        """Return once ``count`` listeners are parked (no polling: parking sets an event)."""
        if self._parked is None:
            self._parked = asyncio.Event()
        while self.listener_count < count:
            self._parked.clear()
            await self._parked.wait()

    def wake_all(self) -> None:
        """Release every parked listener (on close or restart)."""
        for key in list(self._waiters):
            self._notify(key)

    def _changed(self, key: ConfigKey) -> None:
        """A config was stored or removed: wake its long-polls and tell the change hooks."""
        self._notify(key)
        for hook in self.change_hooks:
            hook(key)

    def _notify(self, key: ConfigKey) -> None:
        for future in self._waiters.pop(key, ()):
            with contextlib.suppress(asyncio.InvalidStateError):
                future.set_result(None)
