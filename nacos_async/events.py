"""What happened in a client: counters (``client.stats``), one-line logs and user event hooks.

Every notable moment (login, refresh, replay, failover, ...) goes through ``Events.emit``, so
counting, logging and tracing can never disagree. Attributes must never carry a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

logger = logging.getLogger("nacos_async")
logger.addHandler(logging.NullHandler())  # a library logs only where the app asks it to


@dataclass
class ClientStats:
    """Counters of one client's life; ``client.stats`` returns a copy."""

    requests: int = 0
    logins: int = 0
    login_failures: int = 0
    proactive_refreshes: int = 0
    forced_logins: int = 0
    replays: int = 0
    failovers: int = 0
    retries: int = 0
    auth_errors: int = 0
    permission_errors: int = 0
    background_errors: int = 0
    heartbeats: int = 0
    heartbeat_failures: int = 0
    reregistrations: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Event:
    """One notable moment: ``kind`` such as ``"login"``, plus secret-free attributes."""

    kind: str
    attrs: Mapping[str, Any] = field(default_factory=dict)


EventHook = Callable[[Event], None]

# kind -> (stats counter to bump, log level). Kinds not listed are only passed to hooks.
_KINDS: dict[str, tuple[str | None, int]] = {
    "request": ("requests", logging.DEBUG),
    "login": ("logins", logging.INFO),
    "login_failed": ("login_failures", logging.WARNING),
    "refresh": ("proactive_refreshes", logging.DEBUG),
    "forced_login": ("forced_logins", logging.INFO),
    "replay": ("replays", logging.INFO),
    "failover": ("failovers", logging.WARNING),
    "retry": ("retries", logging.INFO),
    "auth_error": ("auth_errors", logging.WARNING),
    "permission_error": ("permission_errors", logging.WARNING),
    "background_error": ("background_errors", logging.WARNING),
    "heartbeat": ("heartbeats", logging.DEBUG),
    "heartbeat_failed": ("heartbeat_failures", logging.WARNING),
    "reregister": ("reregistrations", logging.INFO),
}


class Events:
    """Counts, logs and forwards events to hooks; a raising hook is logged, never propagated."""

    def __init__(self) -> None:
        self.stats = ClientStats()
        self._hooks: list[EventHook] = []

    def add_hook(self, hook: EventHook) -> None:
        self._hooks.append(hook)

    def remove_hook(self, hook: EventHook) -> None:
        self._hooks.remove(hook)

    def wants(self, kind: str) -> bool:
        """True when an event of ``kind`` would be logged or seen by a hook (else just count)."""
        return bool(self._hooks) or logger.isEnabledFor(_KINDS.get(kind, (None, logging.DEBUG))[1])

    def count(self, kind: str) -> None:
        """Bump the counter of ``kind`` without building an event (the hot path)."""
        counter = _KINDS[kind][0]
        if counter is not None:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)

    def emit(self, kind: str, **attrs: Any) -> None:
        counter, level = _KINDS.get(kind, (None, logging.DEBUG))
        if counter is not None:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        if logger.isEnabledFor(level):
            detail = " ".join(f"{k}={v}" for k, v in attrs.items())
            logger.log(level, "%s %s", kind, detail)
        if self._hooks:
            event = Event(kind, attrs)
            for hook in list(self._hooks):
                try:
                    hook(event)
                except Exception:
                    logger.exception("event hook %r failed on %s", hook, kind)
