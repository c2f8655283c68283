"""Comparing contenders on a shared, noisy machine: short alternating slices, repeated.

Measuring one contender after the other measures the machine's drift as much as the contenders.
Here each contender runs in short slices, the order rotating every round so that none is always
first or last; a repeat is a few rounds summed, and every ratio is reported as min/median/max
over the repeats. A second copy of the baseline (raw against raw) run in the same rotation is the
noise row: how far a ratio strays when nothing differs.

Every slice starts with the garbage collected (outside its measured time): otherwise the garbage
one contender leaves is collected, in part, on the next one's clock. At 1,000 concurrent requests,
where collection is about a third of the CPU, that alone can move a ratio by several percent.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sample:
    """What one contender did in one slice (or, summed, in one repeat)."""

    count: int = 0  # operations completed
    seconds: float = 0.0  # wall time
    cpu: float = 0.0  # client CPU time

    def __add__(self, other: Sample) -> Sample:
        return Sample(self.count + other.count, self.seconds + other.seconds, self.cpu + other.cpu)


Slice = Callable[[], Awaitable[Sample]]
Measure = Callable[[Sample], float]


def rate(sample: Sample) -> float:
    return sample.count / sample.seconds if sample.seconds else 0.0


def cpu_per_op(sample: Sample) -> float:
    return sample.cpu / max(1, sample.count)


def seconds_per_op(sample: Sample) -> float:
    return sample.seconds / max(1, sample.count)


@dataclass(frozen=True)
class Spread:
    """Min, median and max of one figure over repeats."""

    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        ordered = sorted(values)
        if not ordered:
            raise ValueError("a spread needs at least one value")
        return cls(ordered[0], statistics.median(ordered), ordered[-1])

    def scaled(self, factor: float) -> Spread:
        return Spread(self.min * factor, self.median * factor, self.max * factor)

    def as_dict(self, digits: int = 3) -> dict[str, float]:
        return {k: round(v, digits) for k, v in vars(self).items()}


@dataclass(frozen=True)
class Target:
    """A goal the project set for a figure (``>= 0.92``), judged on the median."""

    op: str  # ">=" or "<="
    value: float

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"target operator must be '>=' or '<=', not {self.op!r}")

    def judge(self, spread: Spread) -> dict[str, Any]:
        """The goal, whether the median meets it, and the gap (positive: margin to spare)."""
        gap = spread.median - self.value if self.op == ">=" else self.value - spread.median
        return {"goal": f"{self.op} {self.value:g}", "met": gap >= 0, "gap": round(gap, 3)}


@dataclass
class Comparison:
    """Per repeat, what each contender did (its slices summed)."""

    repeats: list[dict[str, Sample]]

    def total(self, name: str) -> Sample:
        return sum((repeat[name] for repeat in self.repeats), Sample())

    def spread(self, name: str, measure: Measure) -> Spread:
        return Spread.of(measure(repeat[name]) for repeat in self.repeats)

    def ratio(self, name: str, baseline: str, measure: Measure) -> Spread:
        """``measure(name) / measure(baseline)`` within each repeat, spread over repeats."""
        return Spread.of(
            measure(r[name]) / measure(r[baseline]) if measure(r[baseline]) else float("nan")
            for r in self.repeats
        )


async def compare(
    contenders: Mapping[str, Slice], rounds: int, repeats: int, warmup: bool = True
) -> Comparison:
    """Run every contender's slice ``rounds`` times per repeat, rotating the order each round.

    With ``warmup``, each contender first runs one slice that is not counted: pools fill,
    API versions are probed and bytecode is compiled before anything is measured.
    """
    if not contenders or rounds < 1 or repeats < 1:
        raise ValueError("compare needs contenders, rounds >= 1 and repeats >= 1")
    names = list(contenders)
    if warmup:
        for name in names:
            gc.collect()
            await contenders[name]()
    results: list[dict[str, Sample]] = []
    turn = 0
    for _ in range(repeats):
        sums = {name: Sample() for name in names}
        for _ in range(rounds):
            first = turn % len(names)
            for name in names[first:] + names[:first]:
                gc.collect()  # no contender pays for collecting another's garbage
                sums[name] += await contenders[name]()
            turn += 1
        results.append(sums)
    return Comparison(results)


def spread_text(spread: Mapping[str, float], unit: str = "") -> str:
    """``0.95 (0.91-0.98)``: the median, then min-max, from a ``Spread.as_dict()``."""
    return f"{spread['median']:g}{unit} ({spread['min']:g}-{spread['max']:g})"


def target_text(judged: Mapping[str, Any] | None) -> str:
    """``>= 0.92: met (+0.03)`` from a ``Target.judge()`` result; ``-`` when there is none."""
    if not judged:
        return "-"
    return f"{judged['goal']}: {'met' if judged['met'] else 'missed'} ({judged['gap']:+g})"
