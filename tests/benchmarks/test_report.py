"""The report says how far a run's own noise rows strayed, beside the targets it judges."""

from __future__ import annotations

from typing import Any

from benchmarks import report


def noise_row(cpu: float, throughput: float) -> dict[str, Any]:
    def spread(median: float) -> dict[str, float]:
        return {"min": median - 0.1, "median": median, "max": median + 0.1}

    return {"vs_raw": {"raw again (noise)": {"cpu_per_request": spread(cpu),
                                             "throughput": spread(throughput)}}}  # fmt: skip


def test_the_read_noise_is_the_widest_stray_of_any_noise_row_median() -> None:
    results = {"token": {"throughput": [noise_row(0.97, 1.01), noise_row(1.087, 0.847)]}}
    text = report.read_noise(results)
    assert "up to 0.087 in CPU per request and 0.153 in throughput" in text
