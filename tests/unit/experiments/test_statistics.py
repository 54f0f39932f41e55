"""The statistics: SRM flags a skewed split and not a fair one; the always-valid intervals
cover a known effect at their nominal rate even when looked at after every batch, where the
fixed-horizon interval does not."""

import math

import numpy as np

from service.domain.experiments.statistics import (
    Sample,
    compare,
    sample_ratio,
    sequential_halfwidth,
    sequential_rho,
)

ALPHA = 0.05
LOOKS, BATCH, RUNS = 20, 100, 400  # each run looks after every 100 units per arm


def test_a_deliberately_skewed_split_is_a_sample_ratio_mismatch():
    srm = sample_ratio([5_300, 4_700], [0.5, 0.5])
    assert srm.mismatch and srm.p_value < 0.001


def test_a_fair_split_is_not_a_mismatch_even_with_uneven_weights():
    rng = np.random.default_rng(7)
    picks = rng.choice(3, size=30_000, p=[0.2, 0.3, 0.5])
    srm = sample_ratio(np.bincount(picks).tolist(), [0.2, 0.3, 0.5])
    assert not srm.mismatch and srm.p_value > 0.001
    assert srm.expected == (6_000.0, 9_000.0, 15_000.0)


def test_no_units_is_no_mismatch_and_units_in_a_zero_weight_arm_are_one():
    assert not sample_ratio([0, 0], [0.5, 0.5]).mismatch
    assert sample_ratio([10, 3], [1.0, 0.0]).mismatch


def test_rho_and_the_half_width_follow_growthbooks_formula():
    rho = sequential_rho(0.05, 5000)
    assert math.isclose(rho, math.sqrt((-2 * math.log(0.05)
                                        + math.log(-2 * math.log(0.05) + 1)) / 5000))
    n, se = 4000, 0.1
    nr2 = n * rho ** 2
    expected = math.sqrt(se ** 2 * n) * math.sqrt(
        2 * (nr2 + 1) * math.log(math.sqrt(nr2 + 1) / 0.05) / (n * rho) ** 2)
    assert math.isclose(sequential_halfwidth(se, n), expected)
    assert sequential_halfwidth(se, n) > 1.96 * se  # the price of looking any time


def test_a_difference_needs_two_units_per_arm_for_an_interval():
    found = compare(Sample.of([1.0]), Sample.of([2.0, 3.0]))
    assert found.difference == 1.5 and found.sequential is None and not found.significant


def _misses(draw, effect: float) -> tuple[float, float, float]:
    """Share of runs where, at some look, each interval excluded the true effect; and the
    share of runs where the single final fixed interval did."""
    seq_miss = fixed_any_miss = fixed_final_miss = 0
    for run in range(RUNS):
        rng = np.random.default_rng(1000 + run)
        a, b = draw(rng, LOOKS * BATCH, 0.0), draw(rng, LOOKS * BATCH, effect)
        seq_out = fixed_out = False
        for look in range(1, LOOKS + 1):
            k = look * BATCH
            found = compare(Sample.of(a[:k].tolist()), Sample.of(b[:k].tolist()), ALPHA)
            seq_out |= not found.sequential[0] <= effect <= found.sequential[1]
            fixed_out |= not found.fixed[0] <= effect <= found.fixed[1]
        fixed_final_miss += not found.fixed[0] <= effect <= found.fixed[1]
        seq_miss += seq_out
        fixed_any_miss += fixed_out
    return seq_miss / RUNS, fixed_any_miss / RUNS, fixed_final_miss / RUNS


def test_the_sequential_interval_of_a_mean_covers_the_effect_at_every_look_at_95_percent():
    seq, fixed_any, fixed_final = _misses(
        lambda rng, n, shift: rng.normal(10 + shift, 3, n), effect=0.4)
    assert seq <= ALPHA  # always valid: covers at all 20 looks at once in >= 95% of runs
    assert fixed_final <= ALPHA + 0.025  # one look at a fixed size: about its nominal rate
    assert fixed_any > 2 * ALPHA  # peeking at the fixed interval inflates the error


def test_the_sequential_interval_of_a_proportion_covers_the_effect_at_every_look():
    seq, fixed_any, _final = _misses(
        lambda rng, n, shift: (rng.random(n) < 0.3 + shift).astype(float), effect=0.05)
    assert seq <= ALPHA
    assert fixed_any > 2 * ALPHA


def test_a_large_real_effect_is_found_significant():
    rng = np.random.default_rng(3)
    found = compare(Sample.of(rng.normal(10, 2, 3000).tolist()),
                    Sample.of(rng.normal(10.5, 2, 3000).tolist()))
    assert found.significant and found.sequential[0] > 0
    assert found.fixed[1] - found.fixed[0] < found.sequential[1] - found.sequential[0]


def test_a_ratio_with_one_order_per_unit_is_the_plain_mean():
    values = [3.0, 5.0, 10.0, 2.0]
    assert Sample.ratio(values, [1.0] * 4) == Sample.of(values)


def test_per_unit_ratios_keep_their_nominal_coverage_when_customers_place_many_orders():
    """Customers differ (a customer effect) and place 1 to 9 orders each: intervals over
    units (the delta method) cover the true difference at their rate; intervals that count
    each order as independent do not."""
    effect, runs = 2.0, 300
    unit_misses = order_misses = 0
    for run in range(runs):
        rng = np.random.default_rng(5000 + run)
        arms = []
        for shift in (0.0, effect):
            orders = rng.integers(1, 10, 400)
            customer = rng.normal(50 + shift, 8, 400)
            costs = [rng.normal(c, 2, k) for c, k in zip(customer, orders, strict=True)]
            arms.append((costs, orders))
        by_unit = compare(*(Sample.ratio([c.sum() for c in costs], orders.tolist())
                            for costs, orders in arms))
        by_order = compare(*(Sample.of(np.concatenate(costs).tolist()) for costs, _ in arms))
        unit_misses += not by_unit.fixed[0] <= effect <= by_unit.fixed[1]
        order_misses += not by_order.fixed[0] <= effect <= by_order.fixed[1]
    assert unit_misses / runs <= ALPHA + 0.025
    assert order_misses / runs > 2 * ALPHA
