"""The statistics of an experiment's results: differences against control with always-valid
(sequential) and fixed-horizon confidence intervals, and the sample-ratio-mismatch check.

The sequential interval is the normal-mixture confidence sequence GrowthBook's sequential
testing uses (Waudby-Smith et al., "Time-uniform central limit theory and asymptotic
confidence sequences", arXiv 2103.06476, eq. 161 for rho; GrowthBook's gbstats
`SequentialTwoSidedTTest` / `sequentialIntervalHalfwidth`):

    rho        = sqrt((-2 ln(alpha) + ln(-2 ln(alpha) + 1)) / N*)
    half-width = sqrt(s2) * sqrt(2 (n rho^2 + 1) ln(sqrt(n rho^2 + 1) / alpha) / (n rho)^2)

with n the units of both arms, s2 = n times the variance of the estimated difference, and
N* the tuning parameter (GrowthBook's default 5,000: the interval is tightest near there).
It holds at every n at once, so looking every day never inflates the error rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

ALPHA = 0.05
TUNING = 5000.0  # GrowthBook's default sequential tuning parameter (N*)
SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class Sample:
    """What an arm observed of one metric: units, mean and (sample) variance."""

    n: int
    mean: float
    variance: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Sample:
        """The sample of these per-unit values."""
        n = len(values)
        if n == 0:
            return cls(0, 0.0, 0.0)
        mean = math.fsum(values) / n
        variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
        return cls(n, mean, variance)

    @classmethod
    def ratio(cls, numerators: Sequence[float], denominators: Sequence[float]) -> Sample:
        """A ratio of per-unit sums (cost per order, km per shipment, ...) over n units, with
        the delta method's variance, as GrowthBook's ratio metrics: the unit that was
        randomised is what varies, however many orders each unit placed."""
        n = len(numerators)
        if n == 0 or math.fsum(denominators) == 0:
            return cls(n, 0.0, 0.0)
        mx, my = math.fsum(numerators) / n, math.fsum(denominators) / n
        if n == 1:
            return cls(1, mx / my, 0.0)
        vx = math.fsum((x - mx) ** 2 for x in numerators) / (n - 1)
        vy = math.fsum((y - my) ** 2 for y in denominators) / (n - 1)
        cxy = math.fsum((x - mx) * (y - my)
                        for x, y in zip(numerators, denominators, strict=True)) / (n - 1)
        variance = vx / my ** 2 - 2 * mx * cxy / my ** 3 + mx ** 2 * vy / my ** 4
        return cls(n, mx / my, max(variance, 0.0))

    @classmethod
    def proportion(cls, successes: int, n: int) -> Sample:
        """The sample of a yes/no metric (its variance the binomial p(1-p) with n-1)."""
        if n == 0:
            return cls(0, 0.0, 0.0)
        p = successes / n
        return cls(n, p, p * (1 - p) * n / (n - 1) if n > 1 else 0.0)


@dataclass(frozen=True)
class Difference:
    """Treatment minus control, with both intervals (None while either arm has < 2 units)."""

    control: float
    treatment: float
    difference: float
    sequential: tuple[float, float] | None
    fixed: tuple[float, float] | None
    significant: bool  # the sequential interval excludes 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"control": self.control, "treatment": self.treatment,
                "difference": self.difference,
                "sequential_interval": list(self.sequential) if self.sequential else None,
                "fixed_interval": list(self.fixed) if self.fixed else None,
                "significant": self.significant}


def sequential_rho(alpha: float = ALPHA, tuning: float = TUNING) -> float:
    """The mixture's rho for a two-sided interval (Waudby-Smith et al., eq. 161)."""
    log_alpha = -2 * math.log(alpha)
    return math.sqrt((log_alpha + math.log(log_alpha + 1)) / tuning)


def sequential_halfwidth(standard_error: float, n: int, alpha: float = ALPHA,
                         tuning: float = TUNING) -> float:
    """Half-width of the always-valid interval of an estimate with this standard error,
    after n units in all (GrowthBook's `sequentialIntervalHalfwidth`)."""
    rho = sequential_rho(alpha, tuning)
    s2 = standard_error ** 2 * n
    nr2 = n * rho ** 2
    return math.sqrt(s2) * math.sqrt(2 * (nr2 + 1) * math.log(math.sqrt(nr2 + 1) / alpha)
                                     / (n * rho) ** 2)


def fixed_halfwidth(control: Sample, treatment: Sample, alpha: float = ALPHA) -> float:
    """Half-width of the classical Welch interval: valid for one look at a fixed size."""
    a, b = control.variance / control.n, treatment.variance / treatment.n
    se = math.sqrt(a + b)
    if se == 0:
        return 0.0
    dof = (a + b) ** 2 / (a ** 2 / (control.n - 1) + b ** 2 / (treatment.n - 1))
    return float(stats.t.ppf(1 - alpha / 2, dof)) * se


def compare(control: Sample, treatment: Sample, alpha: float = ALPHA,
            tuning: float = TUNING) -> Difference:
    """The difference of means (a proportion is a mean of 0s and 1s) with both intervals."""
    difference = treatment.mean - control.mean
    if control.n < 2 or treatment.n < 2:
        return Difference(control.mean, treatment.mean, difference, None, None, False)
    se = math.sqrt(control.variance / control.n + treatment.variance / treatment.n)
    half = sequential_halfwidth(se, control.n + treatment.n, alpha, tuning)
    fixed = fixed_halfwidth(control, treatment, alpha)
    sequential = (difference - half, difference + half)
    return Difference(control.mean, treatment.mean, difference, sequential,
                      (difference - fixed, difference + fixed),
                      not sequential[0] <= 0 <= sequential[1])


@dataclass(frozen=True)
class SampleRatio:
    """The sample-ratio-mismatch check: observed units against the configured weights."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    p_value: float
    mismatch: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"observed": list(self.observed), "expected": list(self.expected),
                "p_value": self.p_value, "mismatch": self.mismatch,
                "threshold": SRM_THRESHOLD}


def sample_ratio(observed: Sequence[int], weights: Sequence[float],
                 threshold: float = SRM_THRESHOLD) -> SampleRatio:
    """Chi-square of the units per variant against the weights; a mismatch below p=0.001
    means the split is broken (assignment, logging or a filter), not that a variant wins."""
    total = sum(observed)
    share = sum(weights)
    expected = tuple(total * w / share for w in weights) if share > 0 else ()
    if any(o > 0 and e == 0 for o, e in zip(observed, expected, strict=True)):
        return SampleRatio(tuple(observed), expected, 0.0, True)  # units in a 0-weight arm
    kept = [(o, e) for o, e in zip(observed, expected, strict=True) if e > 0]
    if total == 0 or len(kept) < 2:
        return SampleRatio(tuple(observed), expected, 1.0, False)
    result = stats.chisquare([o for o, _ in kept], [e for _, e in kept])
    p_value = float(result.pvalue)
    return SampleRatio(tuple(observed), expected, p_value, p_value < threshold)
