"""count_in_transit: a channel counts units in transit expected within N hours (README)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.rules import evaluate_channel, evaluate_channel_reference, load_text
from service.rules.loader import build_ruleset
from service.services.ats.deltas import channel_deltas
from service.services.ats.position import PositionStock, counted_in_transit, explain_position
from service.store.catalog import CatalogSnapshot
from tests.rule_strategies import conditions, facts

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
RULES = """\
name: t
version: 1
channels:
  web:
    rules:
      - name: stores-count-two-days
        conditions: {all: [{name: location_type, operator: equal_to, value: store}]}
        actions: [{name: count_in_transit, params: {within_hours: 48}}]
      - name: everyone-counts-six-hours
        conditions: {all: [{name: available, operator: greater_than_or_equal_to, value: 0}]}
        actions: [{name: count_in_transit, params: {within_hours: 6}}]
      - name: stores-keep-two
        conditions: {all: [{name: location_type, operator: equal_to, value: store}]}
        actions: [{name: hold_back_units, params: {units: 2}}]
  app:
    rules:
      - name: stores-keep-two
        conditions: {all: [{name: location_type, operator: equal_to, value: store}]}
        actions: [{name: hold_back_units, params: {units: 2}}]
"""
PRODUCT = {"sku": "A", "category": "c", "brand": "b", "price": 10.0, "tags": []}
STORE = {"location_id": "S1", "location_type": "store", "region": "n", "location_tags": [],
         "can_ship": True, "can_pickup": True, "active": True}
CATALOG = CatalogSnapshot({"A": PRODUCT}, {"S1": STORE, "D1": {
    **STORE, "location_id": "D1", "location_type": "dc"}}, 0)


@pytest.fixture(scope="module")
def ruleset():
    result = load_text(RULES, "t.yaml")
    assert result.ruleset is not None, result.problems
    return result.ruleset


def facts_of(location: str, available: int) -> dict:
    return {**PRODUCT, **CATALOG.locations[location], "on_hand": available,
            "available": available, "channel": "web"}


def test_the_longest_matching_window_counts_in_both_interpreters(ruleset):
    store = evaluate_channel(ruleset, "web", facts_of("S1", 3))
    dc = evaluate_channel(ruleset, "web", facts_of("D1", 3))
    assert (store.in_transit_hours, store.hold_back) == (48.0, 2)
    assert (dc.in_transit_hours, dc.hold_back) == (6.0, 0)
    for location in ("S1", "D1"):
        facts = facts_of(location, 3)
        assert evaluate_channel_reference(ruleset, "web", facts, trace=True) == \
            evaluate_channel(ruleset, "web", facts, trace=True)


def test_a_channel_without_the_action_counts_nothing_in_transit(ruleset):
    assert evaluate_channel(ruleset, "app", {**facts_of("S1", 3), "channel": "app"}
                            ).in_transit_hours is None
    assert ruleset.transit_windows == (6.0, 48.0)


def test_the_trace_names_the_window_that_counted(ruleset):
    hits = evaluate_channel(ruleset, "web", facts_of("S1", 1), trace=True).hits
    assert hits[0].rule == "stores-count-two-days"
    assert hits[0].actions == [{"action": "count_in_transit", "within_hours": 48}]


def test_units_count_only_when_expected_within_the_window():
    arriving = [(NOW + timedelta(hours=47), 3), (NOW + timedelta(hours=48), 2),
                (NOW + timedelta(hours=48, seconds=1), 5)]
    assert counted_in_transit(arriving, 48, NOW) == 5
    assert counted_in_transit(arriving, 6, NOW) == 0
    assert counted_in_transit(arriving, None, NOW) == 0
    assert counted_in_transit([(NOW - timedelta(hours=1), 4)], 1, NOW) == 4  # overdue counts


def test_the_figure_is_available_plus_counted_units_less_the_buffer(ruleset):
    pos = PositionStock("S1", "A", 1, 0, 0)
    arriving = [(NOW + timedelta(hours=30), 4), (NOW + timedelta(hours=90), 7)]
    web = explain_position(ruleset, CATALOG, pos, "web", arriving, NOW)
    assert (web["in_transit_counted"], web["hold_back"], web["available"]) == (4, 2, 3)
    app = explain_position(ruleset, CATALOG, pos, "app", arriving, NOW)
    assert "in_transit_counted" not in app and app["available"] == 0


def test_deltas_of_a_position_with_units_in_transit_count_them_for_that_channel(ruleset):
    arriving = {("S1", "A"): ((NOW + timedelta(hours=30), 4),)}
    before, after = PositionStock("S1", "A", 0, 0, 0), PositionStock("S1", "A", 5, 0, 0)
    # web: max(0, 0 + 4 - 2) = 2 before, 5 + 4 - 2 = 7 after; app: 0 before, 3 after
    assert channel_deltas(ruleset, CATALOG, [(before, after)], arriving, NOW) == {
        ("web", "A"): 5, ("app", "A"): 3}
    assert channel_deltas(ruleset, CATALOG, [(None, before)], arriving, NOW) == {
        ("web", "A"): 2}


@pytest.mark.parametrize("hours", [0, -1, 8761, "48", True])
def test_a_window_that_is_not_a_positive_number_of_hours_up_to_a_year_is_refused(hours):
    text = RULES.replace("within_hours: 48", f"within_hours: {hours!r}".replace("'", '"'))
    result = load_text(text, "t.yaml")
    assert result.ruleset is None
    assert any("within_hours" in p.message or "within_hours" in p.pointer
               for p in result.problems)


channel_rules = st.lists(st.builds(
    lambda c, a: {"conditions": c, "actions": [a]}, conditions, st.sampled_from([
        {"name": "count_in_transit", "params": {"within_hours": 12}},
        {"name": "count_in_transit", "params": {"within_hours": 0.5}},
        {"name": "hold_back_percent", "params": {"percent": 25}},
        {"name": "exclude_location"}])), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(channel_rules, facts, st.integers(0, 50))
def test_compiled_and_reference_agree_on_generated_rules(rules, fact_dict, available):
    ruleset = build_ruleset({"name": "g", "version": 1, "channels": {"web": {"rules": [
        {"name": f"r{i}", **rule} for i, rule in enumerate(rules)]}}}, "<generated>")
    row = {**fact_dict, "available": available}
    assert evaluate_channel(ruleset, "web", row, trace=True) == \
        evaluate_channel_reference(ruleset, "web", row, trace=True)


stocks = st.tuples(st.sampled_from(["S1", "D1"]), st.integers(0, 9), st.integers(0, 4),
                   st.integers(0, 3))
arrivals = st.lists(st.tuples(st.integers(-5, 80), st.integers(1, 6)), max_size=3)


@settings(max_examples=200, deadline=None)
@given(channel_rules, st.lists(st.tuples(st.none() | stocks, stocks), max_size=8),
       st.fixed_dictionaries({"S1": arrivals, "D1": arrivals}))
def test_deltas_with_units_in_transit_equal_the_figures_the_detail_explains(rules, moves, due):
    ruleset = build_ruleset({"name": "g", "version": 1, "channels": {"web": {"rules": [
        {"name": f"r{i}", **rule} for i, rule in enumerate(rules)]}, "app": {"rules": []}}},
        "<generated>")
    arriving = {(loc, "A"): tuple(sorted((NOW + timedelta(hours=h), n) for h, n in found))
                for loc, found in due.items() if found}
    changes, expected = [], {}
    for before, after in moves:
        after_pos = PositionStock(after[0], "A", *after[1:])
        before_pos = None if before is None else PositionStock(after[0], "A", *before[1:])
        changes.append((before_pos, after_pos))
        for channel in ("web", "app"):
            def shown(pos, channel=channel):
                return 0 if pos is None else explain_position(
                    ruleset, CATALOG, pos, channel, arriving.get((pos.location_id, "A"), ()),
                    NOW)["available"]
            moved = shown(after_pos) - shown(before_pos)
            expected[(channel, "A")] = expected.get((channel, "A"), 0) + moved
    assert channel_deltas(ruleset, CATALOG, changes, arriving, NOW) == {
        key: units for key, units in expected.items() if units}
