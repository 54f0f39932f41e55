"""Rules decided by a location's own facts count exactly in its floor; others only discount."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.rules import evaluate_sourcing, load_text
from service.services.orders.rule_floors import location_rule_floors

RULES = """\
name: t
version: 1
channels: {web: {rules: []}}
sourcing:
  rules:
    - name: stores-cost-more
      conditions: {all: [{name: location_type, operator: equal_to, value: store}]}
      actions: [{name: add_cost, params: {points: 50}}]
    - name: east-dcs-are-cheaper
      conditions: {all: [{name: location_type, operator: equal_to, value: dc},
                         {any: [{name: region, operator: equal_to, value: east}]}]}
      actions: [{name: add_cost, params: {points: -30}}]
    - name: near-and-big-orders-are-cheaper
      conditions: {all: [{name: distance_km, operator: less_than, value: 100},
                         {name: location_type, operator: equal_to, value: store}]}
      actions: [{name: add_cost, params: {points: -20}}]
    - name: far-costs-more
      conditions: {all: [{name: distance_km, operator: greater_than, value: 500}]}
      actions: [{name: add_cost, params: {points: 7}}]
    - name: busy-excluded
      conditions: {all: [{name: backlog_ratio, operator: greater_than_or_equal_to, value: 2}]}
      actions: [{name: exclude_location}]
"""
RULESET = load_text(RULES, "t.yaml").ruleset


def location(kind: str, region: str) -> dict:
    return {"location_id": "L1", "location_type": kind, "region": region,
            "location_tags": [], "can_ship": True, "can_pickup": kind == "store"}


def test_a_store_pays_its_surcharge_in_its_floor_and_keeps_only_the_discounts_of_other_rules():
    floors = location_rule_floors(RULESET.sourcing.rules, [
        location("store", "west"), location("dc", "east"), location("dc", "west")])
    assert floors == [50.0 - 20.0, -30.0 - 20.0, -20.0]


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(["store", "dc", "3pl", "dropship"]),
       region=st.sampled_from(["east", "west"]), km=st.floats(0, 3000),
       backlog=st.floats(0, 3), tier=st.sampled_from(["gold", "standard"]))
def test_no_location_s_rules_lower_its_cost_below_its_floor(kind, region, km, backlog, tier):
    facts = location(kind, region)
    floor = location_rule_floors(RULESET.sourcing.rules, [facts])[0]
    outcome = evaluate_sourcing(RULESET, {**facts, "distance_km": km, "backlog_ratio": backlog,
                                          "customer_tier": tier, "order_value": 10.0})
    assert floor <= outcome.cost_adjustment
