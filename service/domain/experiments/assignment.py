"""Assigning a unit to a variant, exactly as GrowthBook's SDKs do (hashing version 2).

The functions mirror the `growthbook` package's `fnv1a32`, `gbhash`, `getBucketRanges` and
`chooseVariation` (growthbook/core.py), so an assignment made here equals one made by any
GrowthBook SDK for the same seed, unit and weights; tests/unit/experiments prove it against
the package on generated inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from service.domain.experiments.model import Experiment

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF
WEIGHT_SUM_MIN, WEIGHT_SUM_MAX = 0.99, 1.01  # GrowthBook's tolerance for a weight vector


def fnv1a32(text: str) -> int:
    """FNV-1a 32 over UTF-16 code units (the JS SDK's charCodeAt loop; ASCII is one byte)."""
    value = _FNV_OFFSET
    if text.isascii():
        for byte in text.encode():
            value = ((value ^ byte) * _FNV_PRIME) & _MASK
        return value
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        value = ((value ^ (data[i] | (data[i + 1] << 8))) * _FNV_PRIME) & _MASK
    return value


def gbhash(seed: str, unit: str) -> float:
    """GrowthBook's v2 hash: FNV-1a of the decimal FNV-1a of seed+unit, in 10,000 buckets."""
    return (fnv1a32(str(fnv1a32(seed + unit))) % 10000) / 10000


def valid_weights(weights: Sequence[float], count: int) -> bool:
    """One finite, non-negative weight per variant, summing to 1 within 0.01."""
    if len(weights) != count:
        return False
    if not all(isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w)
               and w >= 0 for w in weights):
        return False
    return WEIGHT_SUM_MIN <= sum(weights) <= WEIGHT_SUM_MAX


def effective_weights(weights: Sequence[float], count: int) -> list[float]:
    """The weights bucketing uses: these when valid, else equal shares (GrowthBook's rule)."""
    if valid_weights(weights, count):
        return list(weights)
    return [1 / count for _ in range(count)] if count > 0 else []


def bucket_ranges(count: int, coverage: float = 1.0,
                  weights: Sequence[float] | None = None) -> list[tuple[float, float]]:
    """Each variant's [start, start + coverage * weight) at its fixed cumulative start, so
    raising coverage only ever adds units; coverage is clamped to 0..1."""
    coverage = min(1.0, max(0.0, coverage))
    cumulative = 0.0
    ranges = []
    for weight in effective_weights(weights if weights is not None else [], count):
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def choose_variation(n: float, ranges: Sequence[tuple[float, float]]) -> int:
    """The index of the range holding n, or -1 (outside coverage)."""
    for index, (low, high) in enumerate(ranges):
        if low <= n < high:
            return index
    return -1


@dataclass(frozen=True)
class Assignment:
    """A unit's place in an experiment: its variant and ruleset, or why it has none."""

    experiment: str
    in_experiment: bool
    variant: str | None
    ruleset: str | None  # None when not in the experiment: the active ruleset decides
    reason: str  # assigned | not_running | before_start | after_end | channel | no_unit | ...


def assign(experiment: Experiment, unit: str | None, at: datetime,
           channel: str | None = None) -> Assignment:
    """The variant of `unit` at time `at` (for a request on `channel`, when given)."""
    reason = _excluded(experiment, unit, at, channel)
    if reason is None:
        ranges = _ranges(len(experiment.variants), experiment.coverage,
                         tuple(v.weight for v in experiment.variants))
        index = choose_variation(_bucket(experiment.hash_seed, unit or ""), ranges)
        if index >= 0:
            chosen = experiment.variants[index]
            return Assignment(experiment.key, True, chosen.name, chosen.ruleset, "assigned")
        reason = "outside_coverage"
    return Assignment(experiment.key, False, None, None, reason)


@lru_cache(maxsize=1024)
def _ranges(count: int, coverage: float, weights: tuple[float, ...]
            ) -> list[tuple[float, float]]:
    return bucket_ranges(count, coverage, list(weights))


@lru_cache(maxsize=65536)
def _bucket(seed: str, unit: str) -> float:
    """gbhash, remembered: a unit asks again on every page it reads (pure, so safe)."""
    return gbhash(seed, unit)


def _excluded(experiment: Experiment, unit: str | None, at: datetime,
              channel: str | None) -> str | None:
    if experiment.status != "running":
        return "not_running"
    if experiment.start is not None and at < experiment.start:
        return "before_start"
    if experiment.end is not None and at >= experiment.end:
        return "after_end"
    if channel is not None and not experiment.touches(channel):
        return "channel_not_in_experiment"
    if not unit:
        return "no_unit"
    return None
