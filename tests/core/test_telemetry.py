"""OpenTelemetry metrics, read back with the SDK's in-memory reader."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses

from nacos_async.events import Events
from nacos_async.telemetry import install

from .helpers import BASE, forbidden, login_body, make_client, url

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
    tokens = iter(["t1", "t2"])
    with aioresponses() as mock:
        mock.post(
            BASE + "/v3/auth/user/login",
            callback=lambda *_a, **_k: CallbackResult(payload=login_body(next(tokens))),
            repeat=True,
        )
        mock.get(url("/v1/x"), callback=lambda *_a, **_k: forbidden("token expired!"))
        mock.get(url("/v1/x"), payload={})
        client = make_client(
            username="nacos", password="pw", relogin_min_interval=0, telemetry=False
        )
        assert install(client.events, provider)
        async with client:
            await client.request("GET", "/v1/x")
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
