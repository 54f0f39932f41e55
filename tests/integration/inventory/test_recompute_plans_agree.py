"""The full recompute's per-location plan gives the figures of the per-position formula.

A switch recomputes every SKU with `_every_sku_query` (location-only rule conditions computed
once per location, positions aggregated per SKU first); a few SKUs are recomputed with
`_per_position_query`, which evaluates every rule at each position. On a network that varies
every fact a rule can read, both must give every channel the same units for every SKU.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from service.rules.loader import build_ruleset
from service.rules.model import Ruleset
from service.services.masterdata import upserts
from service.store import ats_queries
from service.store.ats_queries import _every_sku_query, _per_position_query
from service.store.models import StockPosition
from tests.rule_strategies import conditions

NOW = datetime(2026, 12, 7, tzinfo=UTC)
LOCATIONS = [
    {"id": "ST-1", "name": "Store one", "type": "store", "lat": 40.7, "lon": -74.0,
     "can_pickup": True, "can_ship": True, "region": "east", "tags": ["sale", "bulky"]},
    {"id": "ST-2", "name": "Store two", "type": "store", "lat": 41.9, "lon": -87.6,
     "can_pickup": False, "can_ship": True, "region": "", "tags": ["A"]},
    {"id": "ST-3", "name": "Closed store", "type": "store", "lat": 42.0, "lon": -87.0,
     "can_pickup": True, "can_ship": False, "active": False, "tags": []},
    {"id": "DC-1", "name": "DC", "type": "dc", "lat": 39.1, "lon": -84.5, "region": "ab"},
    {"id": "3P-1", "name": "Third party", "type": "3pl", "lat": 33.7, "lon": -84.4,
     "can_ship": False, "can_pickup": False, "tags": ["x y"]},
    {"id": "DS-1", "name": "Drop-shipper", "type": "dropship", "lat": 34.0, "lon": -118.2,
     "region": "é"},
]
PRODUCTS = [
    {"sku": "A", "name": "Alpha", "category": "home", "brand": "ab", "price": 10},
    {"sku": "B", "name": "Beta", "category": "toys", "price": 0.5, "tags": ["Sale", "bulky"]},
    {"sku": "C", "name": "Gamma", "category": "", "price": 1e6, "tags": ["a"]},
    {"sku": "D", "name": "Delta (no stock anywhere)", "category": "toys", "price": 2},
]
# (on_hand, allocated, reserved) by (location, sku): some oversold, some empty, some missing
COUNTS = {
    ("ST-1", "A"): (7, 1, 0), ("ST-1", "B"): (2, 0, 0), ("ST-1", "C"): (0, 0, 0),
    ("ST-2", "A"): (3, 2, 2), ("ST-2", "C"): (120, 0, 5), ("ST-3", "A"): (9, 0, 0),
    ("DC-1", "A"): (1000, 10, 3), ("DC-1", "B"): (1, 0, 0), ("DC-1", "C"): (33, 33, 0),
    ("3P-1", "B"): (50, 0, 1), ("DS-1", "A"): (4, 0, 0), ("DS-1", "C"): (2, 5, 0),
}
ACTIONS = st.sampled_from([
    {"name": "exclude_location"},
    *({"name": "hold_back_units", "params": {"units": n}} for n in (0, 1, 2, 5)),
    *({"name": "hold_back_percent", "params": {"percent": p}} for p in (12.5, 33.3, 100, 150)),
    {"name": "count_in_transit", "params": {"within_hours": 24}},
])
channel_rules = st.lists(st.builds(lambda c, a: {"conditions": c, "actions": a},
                                   conditions, st.lists(ACTIONS, min_size=1, max_size=2)),
                         min_size=1, max_size=4)
RULE_FILES = sorted((Path(__file__).parents[2] / "fixtures" / "rulesets").glob("*/v*.yaml"))


def load_network(ctx: Any) -> None:
    upserts.upsert_locations(ctx, LOCATIONS)
    upserts.upsert_products(ctx, PRODUCTS)
    as_of = NOW.replace(tzinfo=None)
    with ctx.sessions.begin() as session:
        session.execute(insert(StockPosition), [
            {"location_id": loc, "sku": sku, "on_hand": on_hand, "allocated": allocated,
             "reserved": reserved, "as_of": as_of, "updated_at": as_of}
            for (loc, sku), (on_hand, allocated, reserved) in COUNTS.items()])


def figures_of_both_plans(ctx: Any, ruleset: Ruleset) -> tuple[list[Any], list[Any]]:
    channels = sorted(ruleset.channels)
    with ctx.sessions() as session:
        every = session.execute(_every_sku_query(ruleset, channels, NOW)).all()
        each = session.execute(_per_position_query(ruleset, channels, None, NOW)).all()
    as_ints = lambda rows: sorted((r[0], *(int(v) for v in r[1:])) for r in rows)  # noqa: E731
    return as_ints(every), as_ints(each)


@pytest.fixture
def loaded_ctx(ctx: Any) -> Any:
    """The test context with the varied network loaded (no kept ATS: nothing is switched)."""
    load_network(ctx)
    return ctx


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_every_test_ruleset_gives_the_same_figures_in_both_plans(loaded_ctx, rule_file):
    ruleset = build_ruleset(yaml.safe_load(rule_file.read_text()), str(rule_file))
    every, each = figures_of_both_plans(loaded_ctx, ruleset)
    assert every == each
    assert [row[0] for row in every] == ["A", "B", "C", "D"]
    assert every[-1][1:] == tuple(0 for _ in ruleset.channels)  # D: no positions, 0 units


@pytest.mark.parametrize("most_product_tests", [0, 8], ids=["products-joined", "per-outcome"])
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(web=channel_rules, app=channel_rules)
def test_generated_rules_give_the_same_figures_in_both_plans(loaded_ctx, monkeypatch,
                                                            most_product_tests, web, app):
    # 0: products joined to every position; 8: each channel summed per outcome of its
    # product tests (generated rules read up to 8 different ones in most examples)
    monkeypatch.setattr(ats_queries, "MAX_PRODUCT_TESTS", most_product_tests)
    ruleset = build_ruleset({"name": "generated", "version": 1, "channels": {
        "web": {"rules": [{"name": f"w{i}", **rule} for i, rule in enumerate(web)]},
        "app": {"rules": [{"name": f"a{i}", **rule} for i, rule in enumerate(app)]}}},
        "<generated>")
    every, each = figures_of_both_plans(loaded_ctx, ruleset)
    assert every == each
