"""Evaluation semantics (DESIGN.md §2): buffers, exclusions, costs, dispositions, traces."""

from __future__ import annotations

import pytest

from service.rules import (
    Registry,
    evaluate_channel,
    evaluate_channel_reference,
    evaluate_return,
    evaluate_sourcing,
    load_text,
)
from service.rules.evaluate import evaluate_return_reference, evaluate_sourcing_reference
from service.rules.vocabulary import percent_units
from tests.support import FIXTURES

RULESETS = FIXTURES / "rulesets"

CHANNELS = """\
name: t
version: 1
channels:
  web:
    rules:
      - name: stores-keep-two
        conditions: {all: [{name: location_type, operator: equal_to, value: store}]}
        actions: [{name: hold_back_units, params: {units: 2}}]
      - name: sale-keeps-a-quarter
        conditions: {all: [{name: tags, operator: contains, value: SALE}]}
        actions: [{name: hold_back_percent, params: {percent: 25}}]
      - name: no-dropship
        conditions: {all: [{name: location_type, operator: equal_to, value: dropship}]}
        actions: [{name: exclude_location}]
sourcing:
  rules:
    - name: stores-cost-more
      conditions: {all: [{name: location_type, operator: equal_to, value: store}]}
      actions: [{name: add_cost, params: {points: 50}}]
    - name: far-costs-more
      conditions: {all: [{name: distance_km, operator: greater_than, value: 100}]}
      actions: [{name: add_cost, params: {points: 20.5}}]
    - name: busy-excluded
      conditions: {all: [{name: backlog_ratio, operator: greater_than_or_equal_to, value: 2}]}
      actions: [{name: exclude_location}]
returns:
  rules:
    - name: damaged
      conditions: {all: [{name: condition, operator: equal_to, value: damaged}]}
      actions: [{name: set_disposition, params: {disposition: discard}}]
    - name: defective
      conditions: {any: [{name: condition, operator: equal_to, value: defective},
                         {name: reason, operator: matches_regex, value: "^broken"}]}
      actions: [{name: set_disposition, params: {disposition: return_to_vendor}}]
  default_disposition: restock
"""


@pytest.fixture(scope="module")
def ruleset():
    return load_text(CHANNELS, "t.yaml").ruleset


def position(**overrides):
    facts = {"sku": "A", "category": "c", "brand": "b", "price": 10.0, "tags": [],
             "location_id": "L1", "location_type": "dc", "region": "n", "location_tags": [],
             "can_ship": True, "can_pickup": False, "on_hand": 20, "available": 20,
             "channel": "web"}
    return {**facts, **overrides}


def test_largest_hold_back_wins_when_several_rules_match(ruleset):
    facts = position(location_type="store", tags=["sale"], available=20)
    outcome = evaluate_channel(ruleset, "web", facts)
    assert outcome.hold_back == 5 and not outcome.excluded
    small = evaluate_channel(ruleset, "web", position(location_type="store", tags=["sale"],
                                                      available=4))
    assert small.hold_back == 2


def test_percent_hold_back_rounds_up():
    assert percent_units(25, 21) == 6
    assert percent_units(0.3, 1000) == 3
    assert percent_units(12.5, 8) == 1
    assert percent_units(33.3, 10) == 4
    assert percent_units(20, 0) == 0 and percent_units(20, -5) == 0


def test_any_matching_exclusion_excludes(ruleset):
    outcome = evaluate_channel(ruleset, "web", position(location_type="dropship"))
    assert outcome.excluded and outcome.hold_back == 0


def test_a_channel_without_rules_holds_nothing_back(ruleset):
    outcome = evaluate_channel(ruleset, "kiosk", position(location_type="store"))
    assert (outcome.hold_back, outcome.excluded, outcome.hits) == (0, False, ())


def test_trace_names_each_matching_rule_with_the_values_it_read(ruleset):
    facts = position(location_type="store", tags=["Sale"], available=10)
    hits = evaluate_channel(ruleset, "web", facts, trace=True).hits
    assert [h.rule for h in hits] == ["stores-keep-two", "sale-keeps-a-quarter"]
    assert hits[0].variables == {"location_type": "store"}
    assert hits[1].actions == [{"action": "hold_back_percent", "percent": 25, "units": 3}]


def test_reference_interpreter_gives_the_same_outcome_and_trace(ruleset):
    for facts in (position(location_type="store", tags=["sale"]), position(),
                  position(location_type="dropship", tags=["SALE"], available=3)):
        assert evaluate_channel_reference(ruleset, "web", facts, trace=True) == \
            evaluate_channel(ruleset, "web", facts, trace=True)


def test_sourcing_cost_adjustments_add_up(ruleset):
    facts = {"location_type": "store", "distance_km": 150, "backlog_ratio": 0.5}
    outcome = evaluate_sourcing(ruleset, facts, trace=True)
    assert outcome.cost_adjustment == 70.5 and not outcome.excluded
    assert [h.rule for h in outcome.hits] == ["stores-cost-more", "far-costs-more"]
    assert evaluate_sourcing_reference(ruleset, facts) == evaluate_sourcing(ruleset, facts)


def test_sourcing_exclusion_excludes(ruleset):
    facts = {"location_type": "dc", "distance_km": 1, "backlog_ratio": 2.0}
    assert evaluate_sourcing(ruleset, facts).excluded


@pytest.mark.parametrize(("condition", "reason", "disposition"), [
    ("damaged", "", "discard"),
    ("defective", "", "return_to_vendor"),
    ("opened", "broken zip", "return_to_vendor"),
    ("new", "changed mind", "restock"),
])
def test_first_matching_return_rule_decides_else_the_default(ruleset, condition, reason,
                                                             disposition):
    facts = {"condition": condition, "reason": reason, "sku": "A"}
    assert evaluate_return(ruleset, facts).disposition == disposition
    assert evaluate_return_reference(ruleset, facts).disposition == disposition


def test_return_trace_names_the_deciding_rule(ruleset):
    hits = evaluate_return(ruleset, {"condition": "damaged", "reason": "x"}, trace=True).hits
    assert [h.rule for h in hits] == ["damaged"]


def test_fixture_rulesets_evaluate_like_the_reference_on_every_channel():
    registry = Registry(RULESETS)
    registry.reload()
    samples = [position(location_type=t, tags=tags, can_pickup=p, available=a)
               for t in ("store", "dc", "3pl", "dropship") for tags in ([], ["bulky"])
               for p in (True, False) for a in (0, 7, 40)]
    for rs in registry.versions():
        for channel in rs.channels:
            for facts in samples:
                assert evaluate_channel(rs, channel, facts) == \
                    evaluate_channel_reference(rs, channel, facts)
