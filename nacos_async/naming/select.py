"""Weighted random choice among the instances that can take traffic."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence

from nacos_async.naming.models import Instance


def eligible(instances: Sequence[Instance]) -> list[Instance]:
    return [i for i in instances if i.healthy and i.enabled and i.weight > 0]


def weighted_choice(instances: Sequence[Instance], rng: random.Random) -> Instance | None:
    """Pick one healthy, enabled instance with probability proportional to its weight."""
    candidates = eligible(instances)
    if not candidates:
        return None
    totals = list(itertools.accumulate(i.weight for i in candidates))
    return candidates[bisect.bisect_right(totals, rng.random() * totals[-1])]
