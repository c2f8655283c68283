"""OpenTelemetry metrics from client events, when ``opentelemetry-api`` is installed.

One counter per event kind that ``events.KINDS`` gives a metric name, and a request-duration
histogram. Instruments are made once per process and meter provider (a thousand clients share
them); without the package this is off.
"""

from __future__ import annotations

from typing import Any

from nacos_async.events import KINDS, Event, EventHook, Events

_INSTRUMENTS: dict[int, tuple[dict[str, Any], Any]] = {}  # id(provider) -> (counters, histogram)
_PROVIDERS: list[Any] = []  # keeps each provider alive while its id is a key above


def _instruments(provider: Any) -> tuple[dict[str, Any], Any]:
    cached = _INSTRUMENTS.get(id(provider))
    if cached is None:
        meter = provider.get_meter("nacos_async")
        counters = {
            kind: meter.create_counter(spec.metric, unit="1")
            for kind, spec in KINDS.items()
            if spec.metric is not None
        }
        duration = meter.create_histogram(
            "nacos_async.request.duration", unit="s", description="Time of one HTTP attempt."
        )
        cached = _INSTRUMENTS[id(provider)] = (counters, duration)
        _PROVIDERS.append(provider)
    return cached


def opentelemetry_hook(meter_provider: Any = None) -> EventHook | None:
    """An event hook that records metrics, or None when opentelemetry-api is missing."""
    try:
        from opentelemetry import metrics
    except ImportError:
        return None
    counters, duration = _instruments(meter_provider or metrics.get_meter_provider())

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
