"""What happened in a client: counters (``client.stats``), one-line logs and user event hooks.

Every notable moment (login, refresh, replay, failover, ...) goes through ``Events.emit``, so
counting, logging, metrics and tracing can never disagree: ``KINDS`` is the one table that says,
per kind, which counter it bumps, at which level it is logged and which metric records it.
Attributes must never carry a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple, Protocol

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
    background_crashes: int = 0
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


class Metrics(Protocol):
    """A metrics recorder (``telemetry.py``): fed the events only while ``active()``, so that a
    process with no meter provider configured pays nothing per request."""

    def active(self) -> bool: ...

    def __call__(self, event: Event) -> None: ...


class Kind(NamedTuple):
    """How one event kind is counted, logged and measured."""

    counter: str | None  # the ClientStats field it bumps
    level: int  # the log level of its one-line record
    metric: str | None = None  # the OpenTelemetry counter that records it


KINDS: dict[str, Kind] = {
    "request": Kind("requests", logging.DEBUG),  # measured as a duration histogram
    "login": Kind("logins", logging.INFO, "nacos_async.logins"),
    "login_failed": Kind("login_failures", logging.WARNING, "nacos_async.login_failures"),
    "refresh": Kind("proactive_refreshes", logging.DEBUG, "nacos_async.refreshes"),
    "forced_login": Kind("forced_logins", logging.INFO, "nacos_async.forced_logins"),
    "replay": Kind("replays", logging.INFO, "nacos_async.replays"),
    "failover": Kind("failovers", logging.WARNING, "nacos_async.failovers"),
    "retry": Kind("retries", logging.INFO, "nacos_async.retries"),
    "auth_error": Kind("auth_errors", logging.WARNING, "nacos_async.auth_errors"),
    "permission_error": Kind("permission_errors", logging.WARNING, "nacos_async.permission_errors"),
    "background_error": Kind("background_errors", logging.WARNING, "nacos_async.background_errors"),
    "background_crash": Kind("background_crashes", logging.ERROR, "nacos_async.background_crashes"),
    "heartbeat": Kind("heartbeats", logging.DEBUG),
    "heartbeat_failed": Kind(
        "heartbeat_failures", logging.WARNING, "nacos_async.heartbeat_failures"
    ),
    "reregister": Kind("reregistrations", logging.INFO, "nacos_async.reregistrations"),
    "api_version": Kind(None, logging.INFO),
    "open_api_fallback": Kind(None, logging.INFO),
    "config_watch_mode": Kind(None, logging.INFO),
    "transport_chosen": Kind(None, logging.INFO),
    "grpc_connected": Kind(None, logging.INFO),
    "grpc_disconnected": Kind(None, logging.WARNING, "nacos_async.grpc_disconnects"),
    # every failed attempt, while the channel logs the first and every tenth at WARNING
    "grpc_connect_failed": Kind(None, logging.DEBUG, "nacos_async.grpc_connect_failures"),
    "grpc_reset": Kind(None, logging.INFO),
    "grpc_redo": Kind(None, logging.INFO),
}
_UNLISTED = Kind(None, logging.DEBUG)  # other kinds are only passed to hooks (and DEBUG logs)


class Events:
    """Counts, logs and forwards events to hooks and metrics; a raising hook is logged, never
    propagated."""

    def __init__(self) -> None:
        self.stats = ClientStats()
        self._hooks: list[EventHook] = []
        self.metrics: Metrics | None = None

    def add_hook(self, hook: EventHook) -> None:
        self._hooks.append(hook)

    def remove_hook(self, hook: EventHook) -> None:
        self._hooks.remove(hook)

    def wants(self, kind: str) -> bool:
        """True when an event of ``kind`` would be logged, seen by a hook or measured (else the
        caller just counts it, building nothing)."""
        if self._hooks or logger.isEnabledFor(KINDS.get(kind, _UNLISTED).level):
            return True
        metrics = self.metrics
        return metrics is not None and metrics.active()

    def count(self, kind: str) -> None:
        """Bump the counter of ``kind`` without building an event (the hot path)."""
        counter = KINDS[kind].counter
        if counter is not None:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)

    def emit(self, kind: str, **attrs: Any) -> None:
        counter, level, _ = KINDS.get(kind, _UNLISTED)
        if counter is not None:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        if logger.isEnabledFor(level):
            detail = " ".join(f"{k}={v}" for k, v in attrs.items())
            logger.log(level, "%s %s", kind, detail)
        metrics = self.metrics
        measured = metrics is not None and metrics.active()
        if self._hooks or measured:
            event = Event(kind, attrs)
            for hook in list(self._hooks):
                try:
                    hook(event)
                except Exception:
                    logger.exception("event hook %r failed on %s", hook, kind)
            if measured:
                assert metrics is not None
                try:
                    metrics(event)
                except Exception:
                    logger.exception("recording metrics failed on %s", kind)
