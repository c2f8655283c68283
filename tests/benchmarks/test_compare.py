"""The comparison helper: rotation, warm-up, per-repeat ratios, spreads and targets."""

from __future__ import annotations

import gc

import pytest

from benchmarks._compare import (
    Sample,
    Slice,
    Spread,
    Target,
    compare,
    cpu_per_op,
    rate,
    spread_text,
    target_text,
)


def recording(name: str, calls: list[str], samples: list[Sample]) -> Slice:
    """A contender whose slices return ``samples`` in turn and log their order in ``calls``."""
    turns = iter(samples)

    async def run() -> Sample:
        calls.append(name)
        return next(turns)

    return run


async def test_the_order_rotates_every_round_after_one_warm_up_slice_each() -> None:
    calls: list[str] = []
    slices = {name: recording(name, calls, [Sample(1, 1.0, 1.0)] * 10) for name in "abc"}
    await compare(slices, rounds=2, repeats=2)
    assert calls == list("abc" + "abcbca" + "cababc")


async def test_warm_up_is_not_counted_and_each_repeat_sums_its_rounds() -> None:
    calls: list[str] = []
    warm_then_steady = [Sample(100, 1.0, 9.0)] + [Sample(3, 1.0, 0.5)] * 4
    runs = await compare({"a": recording("a", calls, warm_then_steady)}, rounds=2, repeats=2)
    assert runs.repeats == [{"a": Sample(6, 2.0, 1.0)}, {"a": Sample(6, 2.0, 1.0)}]
    assert runs.total("a") == Sample(12, 4.0, 2.0)
    assert rate(runs.total("a")) == 3.0 and cpu_per_op(runs.total("a")) == pytest.approx(1 / 6)


async def test_ratios_are_taken_within_each_repeat_then_spread() -> None:
    calls: list[str] = []
    ours = [Sample(0, 1.0, 0.0)] + [Sample(n, 1.0, 0.1) for n in (8, 9, 6, 6)]
    raw = [Sample(0, 1.0, 0.0)] + [Sample(10, 1.0, 0.1)] * 4
    runs = await compare(
        {"ours": recording("ours", calls, ours), "raw": recording("raw", calls, raw)},
        rounds=1,
        repeats=4,
        warmup=True,
    )
    assert runs.ratio("ours", "raw", rate) == Spread(0.6, 0.7, 0.9)
    assert runs.spread("ours", rate) == Spread(6.0, 7.0, 9.0)


async def test_every_slice_starts_with_the_garbage_collected() -> None:
    """A slice that leaves garbage behind does not have it collected on the next one's clock."""
    kept: list[object] = []
    pending_at_start: list[int] = []

    async def messy() -> Sample:
        pending_at_start.append(gc.get_count()[0])
        kept.extend([] for _ in range(300))  # tracked objects, below the collector's threshold
        return Sample(1, 1.0, 1.0)

    await compare({"a": messy, "b": messy}, rounds=3, repeats=2)
    assert len(pending_at_start) == 2 + 2 * 3 * 2
    assert max(pending_at_start) < 50, pending_at_start


async def test_compare_refuses_nothing_to_do() -> None:
    with pytest.raises(ValueError, match="rounds >= 1"):
        await compare({}, rounds=1, repeats=1)
    with pytest.raises(ValueError, match="repeats >= 1"):
        await compare({"a": recording("a", [], [])}, rounds=1, repeats=0, warmup=False)


def test_a_spread_is_min_median_max_and_needs_a_value() -> None:
    assert Spread.of([3.0, 1.0, 2.0, 10.0]) == Spread(1.0, 2.5, 10.0)
    assert Spread.of([2.0]).scaled(1000).as_dict(1) == {
        "min": 2000.0,
        "median": 2000.0,
        "max": 2000.0,
    }
    with pytest.raises(ValueError, match="at least one value"):
        Spread.of([])


def test_targets_are_judged_on_the_median_with_a_signed_gap() -> None:
    floor, ceiling = Target(">=", 0.92), Target("<=", 1.10)
    assert floor.judge(Spread(0.5, 0.95, 0.99)) == {"goal": ">= 0.92", "met": True, "gap": 0.03}
    assert floor.judge(Spread(0.9, 0.9, 1.2)) == {"goal": ">= 0.92", "met": False, "gap": -0.02}
    assert ceiling.judge(Spread(1.0, 1.25, 1.3)) == {"goal": "<= 1.1", "met": False, "gap": -0.15}
    with pytest.raises(ValueError, match="'=='"):
        Target("==", 1.0)


def test_text_forms_show_median_range_goal_and_gap() -> None:
    assert spread_text({"min": 0.9, "median": 0.95, "max": 1.0}, " ms") == "0.95 ms (0.9-1)"
    assert target_text({"goal": ">= 0.92", "met": False, "gap": -0.02}) == ">= 0.92: missed (-0.02)"
    assert target_text(None) == "-"
