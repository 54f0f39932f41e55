"""A channel's rules evaluated over position arrays (numpy) give, position by position, what
business-rules' reference evaluation gives: 0 when excluded, else max(0, available - the
largest hold-back)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.rules.evaluate import evaluate_channel_reference
from service.rules.loader import build_ruleset
from service.rules.variables import VARIABLES_BY_NAME
from service.rules.vectorised import PositionArrays, channel_units
from tests.rule_strategies import conditions, facts

ENTITY = {name: v.entity for name, v in VARIABLES_BY_NAME.items()}
actions = st.sampled_from([
    {"name": "exclude_location"},
    *({"name": "hold_back_units", "params": {"units": n}} for n in (0, 1, 3, 2**40)),
    *({"name": "hold_back_percent", "params": {"percent": p}} for p in (10, 12.5, 33.3, 100)),
])
rules = st.lists(st.builds(lambda c, a: {"conditions": c, "actions": a}, conditions,
                           st.lists(actions, min_size=1, max_size=2)), min_size=1, max_size=4)
positions = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 40),
                               st.integers(-5, 40)), min_size=1, max_size=12)


def part(fact: dict, entity: str) -> dict:
    return {k: v for k, v in fact.items() if ENTITY.get(k) == entity}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, st.lists(facts, min_size=3, max_size=3), st.lists(facts, min_size=3, max_size=3),
       positions, st.sampled_from(["web", "marketplace"]))
def test_the_units_per_position_are_the_reference_evaluations(
        drawn, product_facts, location_facts, rows, channel):
    ruleset = build_ruleset({"name": "g", "version": 1, "channels": {channel: {"rules": [
        {"name": f"r{i}", **r} for i, r in enumerate(drawn)]}}}, "<generated>")
    products = [part(f, "product") for f in product_facts]
    locations = [part(f, "location") for f in location_facts]
    sku, loc, on_hand, free = (np.array(column) for column in zip(*rows, strict=True))
    arrays = PositionArrays(sku, loc, on_hand.astype(np.int64),
                            np.maximum(free, 0).astype(np.int32), products, locations)
    got = channel_units(ruleset, channel, arrays, np.ones(len(rows), dtype=bool))
    for i, (s, lo, counted, available) in enumerate(rows):
        seen = {**products[s], **locations[lo], "channel": channel, "on_hand": counted,
                "available": max(available, 0)}
        outcome = evaluate_channel_reference(ruleset, channel, seen)
        expected = 0 if outcome.excluded else max(0, seen["available"] - outcome.hold_back)
        assert int(got[i]) == expected, (i, seen, outcome)
