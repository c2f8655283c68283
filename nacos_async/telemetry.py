"""OpenTelemetry metrics from client events, when ``opentelemetry-api`` is installed.

Counters per event kind (``nacos_async.logins``, ``.replays``, ...) and a request-duration
histogram. Without an SDK configured the API is a no-op; without the package this is off.
"""

from __future__ import annotations

from typing import Any

from nacos_async.events import Event, EventHook, Events

_COUNTED = {
    "login": "nacos_async.logins",
    "login_failed": "nacos_async.login_failures",
    "refresh": "nacos_async.refreshes",
    "forced_login": "nacos_async.forced_logins",
    "replay": "nacos_async.replays",
    "failover": "nacos_async.failovers",
    "retry": "nacos_async.retries",
    "auth_error": "nacos_async.auth_errors",
    "permission_error": "nacos_async.permission_errors",
    "background_error": "nacos_async.background_errors",
}


def opentelemetry_hook(meter_provider: Any = None) -> EventHook | None:
    """An event hook that records metrics, or None when opentelemetry-api is missing."""
    try:
        from opentelemetry import metrics
    except ImportError:
        return None
    meter = (meter_provider or metrics.get_meter_provider()).get_meter("nacos_async")
    counters = {kind: meter.create_counter(name, unit="1") for kind, name in _COUNTED.items()}
    duration = meter.create_histogram(
        "nacos_async.request.duration", unit="s", description="Time of one HTTP attempt."
    )

    def record(event: Event) -> None:
        if event.kind == "request":
            attrs = event.attrs
            duration.record(
                float(attrs.get("duration", 0.0)),
                {
                    "http.request.method": str(attrs.get("method")),
                    "http.response.status_code": int(attrs.get("status", 0)),
                },
            )
            return
        counter = counters.get(event.kind)
        if counter is not None:
            counter.add(1)

    return record


def install(events: Events, meter_provider: Any = None) -> bool:
    """Attach the metrics hook to ``events``; False when OpenTelemetry is not installed."""
    hook = opentelemetry_hook(meter_provider)
    if hook is None:
        return False
    events.add_hook(hook)
    return True
