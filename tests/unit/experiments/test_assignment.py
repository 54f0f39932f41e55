"""Assignment is GrowthBook's: the same hash, bucket ranges and choice as the official package
on generated seeds, units and weights; the split matches the weights; coverage only adds."""

from datetime import UTC, datetime, timedelta

import growthbook.core as gb
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.experiments.assignment import (
    assign,
    bucket_ranges,
    choose_variation,
    fnv1a32,
    gbhash,
)
from service.domain.experiments.model import Experiment, Variant

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
texts = st.text(max_size=40)  # any text: ASCII, accents, emoji (surrogate pairs in UTF-16)
weight_lists = st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1,
                        max_size=6)


def experiment(coverage=1.0, weights=(0.5, 0.5), status="running", **kw):
    variants = tuple(Variant(f"v{i}", f"rs@{i + 1}", w) for i, w in enumerate(weights))
    return Experiment(key=kw.pop("key", "dc-first-test"), unit="customer_id",
                      coverage=coverage, status=status, variants=variants, **kw)


@settings(max_examples=500)
@given(texts, texts)
def test_the_hash_equals_growthbooks_v2_hash_for_any_seed_and_unit(seed, unit):
    assert fnv1a32(seed + unit) == gb.fnv1a32(seed + unit)
    assert gbhash(seed, unit) == gb.gbhash(seed, unit, 2)


@settings(max_examples=500)
@given(weight_lists, st.floats(min_value=-0.5, max_value=1.5, allow_nan=False))
def test_bucket_ranges_equal_growthbooks_for_any_weights_and_coverage(weights, coverage):
    count = len(weights)
    assert bucket_ranges(count, coverage, weights) == gb.getBucketRanges(count, coverage,
                                                                         weights)


@settings(max_examples=300)
@given(weight_lists, st.integers(min_value=1, max_value=6))
def test_weights_of_the_wrong_length_fall_back_to_equal_shares_as_growthbook_does(weights, n):
    assert bucket_ranges(n, 1.0, weights) == gb.getBucketRanges(n, 1.0, weights)


@settings(max_examples=500)
@given(texts, texts, st.lists(st.floats(min_value=0.01, max_value=1), min_size=2, max_size=5),
       st.floats(min_value=0, max_value=1))
def test_the_chosen_variant_equals_growthbooks_choice(seed, unit, raw, coverage):
    weights = [w / sum(raw) for w in raw]
    ranges = gb.getBucketRanges(len(weights), coverage, weights)
    expected = gb.chooseVariation(gb.gbhash(seed, unit, 2), ranges)
    assert choose_variation(gbhash(seed, unit), bucket_ranges(len(weights), coverage,
                                                               weights)) == expected
    found = assign(experiment(coverage, weights, seed=seed), unit or "u", NOW)
    index = gb.chooseVariation(gb.gbhash(seed, unit or "u", 2), ranges)
    assert found.in_experiment == (index >= 0)
    assert found.variant == (f"v{index}" if index >= 0 else None)


def test_the_observed_split_of_100000_units_is_within_one_percent_of_the_weights():
    weights = (0.2, 0.3, 0.5)
    exp = experiment(1.0, weights)
    counts = {v.name: 0 for v in exp.variants}
    for unit in range(100_000):
        counts[assign(exp, f"customer-{unit}", NOW).variant] += 1
    for variant, weight in zip(exp.variants, weights, strict=True):
        assert abs(counts[variant.name] / 100_000 - weight) < 0.01


def test_raising_coverage_from_30_to_60_percent_moves_no_unit_that_was_already_in():
    low, high = experiment(0.3), experiment(0.6)
    before = {u: assign(low, f"c{u}", NOW) for u in range(20_000)}
    after = {u: assign(high, f"c{u}", NOW) for u in range(20_000)}
    kept = [u for u, a in before.items() if a.in_experiment]
    assert 0.28 < len(kept) / 20_000 < 0.32
    assert all(after[u].variant == before[u].variant for u in kept)
    assert 0.58 < sum(a.in_experiment for a in after.values()) / 20_000 < 0.62


def test_a_unit_outside_coverage_gets_no_variant_and_the_active_ruleset():
    exp = experiment(0.1)
    outside = next(a for u in range(1000) if not (a := assign(exp, f"c{u}", NOW)).in_experiment)
    assert (outside.variant, outside.ruleset, outside.reason) == (None, None,
                                                                  "outside_coverage")


def test_a_request_without_a_unit_is_not_in_the_experiment():
    for unit in (None, ""):
        found = assign(experiment(), unit, NOW)
        assert (found.in_experiment, found.variant, found.reason) == (False, None, "no_unit")


def test_draft_stopped_and_shadow_experiments_assign_nobody():
    for status in ("draft", "stopped", "shadow"):
        found = assign(experiment(status=status), "c1", NOW)
        assert (found.in_experiment, found.reason) == (False, "not_running")


def test_a_time_outside_the_window_gets_the_active_ruleset():
    exp = experiment(start=NOW, end=NOW + timedelta(days=1))
    assert assign(exp, "c1", NOW - timedelta(seconds=1)).reason == "before_start"
    assert assign(exp, "c1", NOW + timedelta(days=1)).reason == "after_end"
    assert assign(exp, "c1", NOW).in_experiment


def test_a_channel_outside_the_experiment_is_not_in_it_and_no_channels_means_all():
    only_web = experiment(channels=("web",))
    assert assign(only_web, "c1", NOW, "app").reason == "channel_not_in_experiment"
    assert assign(only_web, "c1", NOW, "web").in_experiment
    assert assign(experiment(), "c1", NOW, "app").in_experiment


def test_the_seed_defaults_to_the_key_and_a_seed_reshuffles_units():
    by_key = experiment(key="k1")
    assert by_key.hash_seed == "k1"
    units = [f"c{u}" for u in range(200)]
    same = [assign(by_key, u, NOW).variant for u in units]
    assert same == [assign(experiment(key="k1", seed="k1"), u, NOW).variant for u in units]
    assert same != [assign(experiment(key="k1", seed="other"), u, NOW).variant for u in units]
