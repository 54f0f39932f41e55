"""ATS deltas remembered by rule-visible facts equal position_ats() position by position."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from service.rules.loader import build_ruleset
from service.rules.predicates import variables_read
from service.services.ats.deltas import channel_ats_reader, channel_deltas
from service.services.ats.position import PositionStock, position_ats
from service.store.catalog import CatalogSnapshot
from service.store.position_reads import StockAt
from tests.rule_strategies import CONTEXT, conditions, facts

VARIABLES = CONTEXT.variables
actions = st.sampled_from([
    {"name": "exclude_location"},
    {"name": "hold_back_units", "params": {"units": 1}},
    {"name": "hold_back_units", "params": {"units": 3}},
    {"name": "hold_back_percent", "params": {"percent": 25}},
    {"name": "hold_back_percent", "params": {"percent": 12.5}},
])
rules = st.lists(st.builds(lambda c, a: {"conditions": c, "actions": [a]}, conditions, actions),
                 max_size=3)
figures = st.tuples(st.sampled_from(["L1", "L2", "L3", "GONE"]), st.sampled_from(["A", "B", "C"]),
                    st.integers(0, 12), st.integers(0, 4), st.integers(0, 3))


def _ruleset(channel_rules):
    channels = {
        channel: {"rules": [{"name": f"r{i}", **rule} for i, rule in enumerate(body)]}
        for channel, body in zip(["web", "app"], channel_rules, strict=True)
    }
    return build_ruleset({"name": "t", "version": 1, "channels": channels}, "test")


def _position(values):
    return None if values is None else PositionStock(*values)


def _expected(ruleset, catalog, changes):
    out: dict[tuple[str, str], int] = defaultdict(int)
    for before, after in changes:
        for channel in ruleset.channels:
            out[(channel, after.sku)] += (position_ats(ruleset, catalog, after, channel)
                                          - position_ats(ruleset, catalog, before, channel))
    return {key: value for key, value in out.items() if value}


def _twins(first, second, name):
    """first, first with one variable taken from second, and second."""
    return [first, {**first, name: second[name]}, second]


@settings(max_examples=300, deadline=None)
@given(st.tuples(rules, rules), st.lists(facts, min_size=4, max_size=4),
       st.lists(st.booleans(), min_size=3, max_size=3),
       st.lists(st.tuples(st.none() | figures, figures), max_size=16), st.data())
def test_channel_deltas_equal_the_ats_of_each_position(channel_rules, fact_rows, active, moves,
                                                    data):
    ruleset = _ruleset(channel_rules)
    read = sorted({name for body in channel_rules for rule in body
                   for name in variables_read(rule["conditions"])} or VARIABLES)
    product_name = data.draw(st.sampled_from(read))
    location_name = data.draw(st.sampled_from(read))
    # products and locations that differ in a single variable, so remembered outcomes of
    # one must never be taken for another that a rule tells apart
    products = dict(zip("ABC", _twins(fact_rows[0], fact_rows[1], product_name), strict=True))
    locations = {loc: {**facts_, "active": on} for loc, facts_, on in zip(
        ["L1", "L2", "L3"], _twins(fact_rows[2], fact_rows[3], location_name), active,
        strict=True)}
    catalog = CatalogSnapshot(products, locations, ())
    changes = []
    for before, after in moves:  # a move keeps its position: same location and sku
        after_pos = _position(after)
        before_pos = _position(before)
        if before_pos is not None:
            before_pos = PositionStock(after_pos.location_id, after_pos.sku, *before[2:])
        changes.append((before_pos, after_pos))
    assert channel_deltas(ruleset, catalog, changes) == _expected(ruleset, catalog, changes)


@settings(max_examples=300, deadline=None)
@given(st.tuples(rules, rules), st.lists(facts, min_size=4, max_size=4),
       st.lists(st.booleans(), min_size=3, max_size=3), st.lists(figures, max_size=24),
       st.sampled_from(["web", "app"]), st.data())
def test_the_sourcing_reader_of_one_channel_gives_the_ats_of_each_position_read(
        channel_rules, fact_rows, active, rows, channel, data):
    ruleset = _ruleset(channel_rules)
    read = sorted({name for body in channel_rules for rule in body
                   for name in variables_read(rule["conditions"])} or VARIABLES)
    name = data.draw(st.sampled_from(read))
    products = dict(zip("ABC", _twins(fact_rows[0], fact_rows[1], name), strict=True))
    locations = {loc: {**facts_, "active": on} for loc, facts_, on in zip(
        ["L1", "L2", "L3"], _twins(fact_rows[2], fact_rows[3], name), active, strict=True)}
    catalog = CatalogSnapshot(products, locations, ())
    ats = channel_ats_reader(ruleset, catalog, channel)
    for number, values in enumerate(rows):  # rows as the sourcing read returns them
        row = StockAt(number, *values)
        assert ats(row) == position_ats(ruleset, catalog, row, channel), row


def test_positions_with_equal_availability_differ_by_what_the_rules_read():
    ruleset = _ruleset([
        [{"conditions": {"all": [{"name": "on_hand", "operator": "greater_than", "value": 5}]},
          "actions": [{"name": "exclude_location"}]},
         {"conditions": {"all": [{"name": "tags", "operator": "contains", "value": "bulky"}]},
          "actions": [{"name": "hold_back_units", "params": {"units": 1}}]}],
        [{"conditions": {"all": [{"name": "location_type", "operator": "equal_to",
                                  "value": "store"}]},
          "actions": [{"name": "hold_back_units", "params": {"units": 2}}]}],
    ])
    product = {"sku": "A", "category": "", "brand": "", "price": 1.0, "tags": ["x"]}
    store = {"location_id": "L1", "location_type": "store", "region": "", "location_tags": [],
             "can_ship": True, "can_pickup": True, "active": True}
    catalog = CatalogSnapshot({"A": product, "B": {**product, "tags": ["x", "bulky"]}},
                              {"L1": store, "L2": {**store, "location_type": "dc"}}, ())
    changes = [(None, PositionStock(loc, sku, on_hand, allocated, 0)) for sku in ("A", "B")
               for loc in ("L1", "L2") for on_hand, allocated in ((4, 0), (8, 4), (9, 5))]
    deltas = channel_deltas(ruleset, catalog, changes)
    assert deltas == _expected(ruleset, catalog, changes)
    assert deltas == {("web", "A"): 8, ("web", "B"): 6, ("app", "A"): 4 * 6 - 2 * 3,
                      ("app", "B"): 4 * 6 - 2 * 3}


def test_figures_remembered_by_an_earlier_call_are_not_used_with_a_new_catalog():
    ruleset = _ruleset([
        [{"conditions": {"all": [{"name": "location_type", "operator": "equal_to",
                                  "value": "store"}]},
          "actions": [{"name": "hold_back_units", "params": {"units": 2}}]}], []])
    product = {"sku": "A", "category": "", "brand": "", "price": 1.0, "tags": []}
    store = {"location_id": "L1", "location_type": "store", "region": "", "location_tags": [],
             "can_ship": True, "can_pickup": True, "active": True}
    change = [(None, PositionStock("L1", "A", 5, 0, 0))]
    as_store = CatalogSnapshot({"A": product}, {"L1": store}, 1)
    assert channel_deltas(ruleset, as_store, change)[("web", "A")] == 3
    # master data changed: L1 is now a DC (a new snapshot, as the catalog cache makes one)
    as_dc = CatalogSnapshot({"A": product}, {"L1": {**store, "location_type": "dc"}}, 2)
    assert channel_deltas(ruleset, as_dc, change)[("web", "A")] == 5
    assert channel_deltas(ruleset, as_store, change)[("web", "A")] == 3


def test_a_new_ruleset_beyond_the_kept_limit_drops_only_the_oldest_remembered_one():
    from service.services.ats import deltas

    product = {"sku": "A", "category": "", "brand": "", "price": 1.0, "tags": []}
    store = {"location_id": "L1", "location_type": "store", "region": "", "location_tags": [],
             "can_ship": True, "can_pickup": True, "active": True}
    catalog = CatalogSnapshot({"A": product}, {"L1": store}, 3)
    deltas._KEPT.clear()
    kept = [deltas._kept(_ruleset([[], []]), catalog, [f"c{i}"])
            for i in range(deltas.KEPT_RULESETS + 1)]
    assert len(deltas._KEPT) == deltas.KEPT_RULESETS
    assert deltas._kept(_ruleset([[], []]), catalog, ["c1"]) is kept[1]  # still remembered
    assert deltas._kept(_ruleset([[], []]), catalog, ["c0"]) is not kept[0]  # the oldest went


def test_readers_in_many_threads_never_give_two_locations_the_same_remembered_facts():
    """The facts the rules read are remembered as numbers shared by a worker's threads: two
    threads meeting new facts at once must not both take the same number (a store would
    then sell what a DC sells)."""
    from concurrent.futures import ThreadPoolExecutor

    ruleset = _ruleset([[{"conditions": {"all": [
        {"name": "location_type", "operator": "equal_to", "value": "store"}]},
        "actions": [{"name": "hold_back_units", "params": {"units": 2}}]}], []])
    product = {"sku": "A", "category": "", "brand": "", "price": 1.0, "tags": []}
    site = {"region": "", "location_tags": [], "can_ship": True, "can_pickup": True,
            "active": True}
    kinds = ["store", "dc"] * 200
    locations = {f"L{i}": {**site, "location_id": f"L{i}", "location_type": kind}
                 for i, kind in enumerate(kinds)}
    catalog = CatalogSnapshot({"A": product}, locations, 4)
    rows = [StockAt(i, f"L{i}", "A", 5, 0, 0) for i in range(len(kinds))]

    def read(offset: int) -> list[int]:
        ats = channel_ats_reader(ruleset, catalog, "web")
        return [ats(rows[(i + offset) % len(rows)]) for i in range(len(rows))]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(read, range(0, 400, 50)))
    for offset, figures in zip(range(0, 400, 50), results, strict=True):
        expected = [3 if kinds[(i + offset) % len(rows)] == "store" else 5
                    for i in range(len(rows))]
        assert figures == expected
