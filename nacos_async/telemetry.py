"""OpenTelemetry metrics from client events, when ``opentelemetry-api`` is installed.

One counter per event kind that ``events.KINDS`` gives a metric name, and a request-duration
histogram. Instruments are made once per process and meter provider (a thousand clients share
them); without the package this is off. Installed for the global provider, the recorder works
only once the application has set a real one (an SDK ``MeterProvider``): until then OpenTelemetry
would drop every measurement, so no event is built for it, and requests cost what they cost with
telemetry off.
"""

from __future__ import annotations

import time
from typing import Any

from nacos_async.events import KINDS, Event, EventHook, Events

_INSTRUMENTS: dict[int, tuple[dict[str, Any], Any]] = {}  # id(provider) -> (counters, histogram)
_PROVIDERS: list[Any] = []  # keeps each provider alive while its id is a key above
_RECHECK = 1.0  # seconds between looks for a real global meter provider, until there is one
_PLACEHOLDERS = ("_ProxyMeterProvider", "NoOpMeterProvider")  # what the API gives before setup


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


class _Recorder:
    """The metrics hook, active for a given provider, or once the global provider is real.

    The global provider can be set after the client is made (an app configuring its SDK at
    startup): instruments made from the API's placeholder forward to the real provider then,
    so the recorder looks again, at most once a second, until one is set.
    """

    __slots__ = ("_check_at", "_hook", "_live")

    def __init__(self, hook: EventHook, *, live: bool) -> None:
        self._hook = hook
        self._live = live
        self._check_at = 0.0

    def active(self) -> bool:
        if self._live:
            return True
        now = time.monotonic()
        if now < self._check_at:
            return False
        self._check_at = now + _RECHECK
        self._live = _global_provider_is_real()
        return self._live

    def __call__(self, event: Event) -> None:
        self._hook(event)


def _global_provider_is_real() -> bool:
    from opentelemetry import metrics

    return type(metrics.get_meter_provider()).__name__ not in _PLACEHOLDERS


def install(events: Events, meter_provider: Any = None) -> bool:
    """Record ``events`` as metrics; False when OpenTelemetry is not installed."""
    hook = opentelemetry_hook(meter_provider)
    if hook is None:
        return False
    events.metrics = _Recorder(hook, live=meter_provider is not None)
    return True
