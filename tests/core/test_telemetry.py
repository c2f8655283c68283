"""OpenTelemetry metrics, read back with the SDK's in-memory reader."""

from __future__ import annotations

from typing import Any

import pytest

from nacos_async.events import Events
from nacos_async.telemetry import install, opentelemetry_hook

from .helpers import FakeNacos, make_client

sdk_metrics = pytest.importorskip("opentelemetry.sdk.metrics")
export = pytest.importorskip("opentelemetry.sdk.metrics.export")


def collected(reader: Any) -> dict[str, Any]:
    data = reader.get_metrics_data()
    return {
        metric.name: metric.data
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


async def test_logins_replays_and_request_durations_are_recorded() -> None:
    reader = export.InMemoryMetricReader()
    provider = sdk_metrics.MeterProvider(metric_readers=[reader])
    fake = FakeNacos()
    client = make_client(
        fake, username="nacos", password="pw", relogin_min_interval=0, telemetry=False
    )
    hook = opentelemetry_hook(provider)  # what telemetry=True installs, with the global provider
    assert hook is not None
    client.add_event_hook(hook)
    async with client:
        fake.expire_all()
        await client.request("GET", "/v1/ns/operator/metrics")
    metrics = collected(reader)
    assert metrics["nacos_async.logins"].data_points[0].value == 2
    assert metrics["nacos_async.replays"].data_points[0].value == 1
    points = metrics["nacos_async.request.duration"].data_points
    counts = {
        (p.attributes["http.request.method"], p.attributes["http.response.status_code"]): p.count
        for p in points
    }
    assert counts == {("POST", 200): 2, ("GET", 403): 1, ("GET", 200): 1}


def test_without_opentelemetry_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_otel(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otel)
    assert install(Events()) is False


def test_instruments_are_made_once_per_process_and_provider() -> None:
    reader = export.InMemoryMetricReader()
    provider = sdk_metrics.MeterProvider(metric_readers=[reader])
    made: list[str] = []
    meter = provider.get_meter("nacos_async")
    real_counter = meter.create_counter

    class CountingProvider:
        def get_meter(self, name: str) -> Any:
            class Meter:
                def create_counter(self, name: str, **kw: Any) -> Any:
                    made.append(name)
                    return real_counter(name, **kw)

                def create_histogram(self, name: str, **kw: Any) -> Any:
                    made.append(name)
                    return meter.create_histogram(name, **kw)

            return Meter()

    counting = CountingProvider()
    for _ in range(100):
        assert install(Events(), counting)
    assert len(made) == len(set(made))  # each instrument once, not once per client


IDLE_UNTIL_A_PROVIDER = """
import logging
from nacos_async import telemetry
from nacos_async.events import Events
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

telemetry._RECHECK = 0.0  # look for a provider on every event (instead of once a second)
logging.getLogger("nacos_async").setLevel(logging.INFO)
events = Events()
assert telemetry.install(events)
assert not events.wants("request")  # the API's placeholder: nothing would be recorded
events.emit("login", reason="initial")
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
assert events.wants("request")
events.emit("login", reason="refresh")
data = reader.get_metrics_data()
names = {m.name: m.data.data_points[0].value for r in data.resource_metrics
         for s in r.scope_metrics for m in s.metrics}
assert names == {"nacos_async.logins": 1}, names
print("ok")
"""


def test_metrics_wait_for_a_real_meter_provider_and_then_record() -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", IDLE_UNTIL_A_PROVIDER], capture_output=True, text=True
    )  # its own process: the global meter provider can be set only once
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"
