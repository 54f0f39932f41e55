"""An order's site table follows its kept backlog read: counts laid over the very counts the
table was built from patch only the locations that moved, and any other counts are compared;
either way the table equals one built afresh from the counts."""

from __future__ import annotations

import gc
import random

import pytest

from service.domain.sourcing import Weights
from service.rules.loader import load_file
from service.services.orders import site_tables
from service.services.orders.site_tables import site_table
from service.store.backlog_kept import Counts
from service.store.catalog import CatalogSnapshot
from tests.support import FIXTURES

RULESET = load_file(FIXTURES / "rulesets" / "default" / "v2.yaml").ruleset
LOCATIONS = {
    f"L{i}": {"id": f"L{i}", "location_type": "store" if i % 3 else "dc", "lat": 40 + i * 0.3,
              "lon": -75 + i * 0.7, "daily_capacity": 10 + i, "processing_hours": 4 + i % 5,
              "priority": i % 2, "active": True, "can_ship": True, "tags": []}
    for i in range(30)}
CATALOG = CatalogSnapshot(products={}, locations=LOCATIONS, version=1)
WEIGHTS = Weights(distance_km=1, backlog_ratio=100, processing_hours=2, shipping_cost=1,
                  priority=10)


@pytest.fixture(autouse=True)
def no_table_kept():
    site_tables.SITES.clear()
    yield
    site_tables.SITES.clear()


def fresh(counts: dict[str, int]):
    site_tables.SITES.clear()
    return site_table(CATALOG, RULESET, dict(counts), WEIGHTS)


def laid_over(base: Counts, changes: dict[str, int]) -> Counts:
    counts = Counts(base, base, changes)
    for loc, n in changes.items():
        if n:
            counts[loc] = n
        else:
            counts.pop(loc, None)
    return counts


def test_counts_laid_over_the_built_ones_patch_only_what_moved_and_equal_a_fresh_table():
    rng = random.Random(7)
    counts = Counts({loc: rng.randrange(1, 20) for loc in list(LOCATIONS)[:10]})
    table = site_table(CATALOG, RULESET, counts, WEIGHTS)
    for _ in range(40):
        changes = {rng.choice(list(LOCATIONS)): rng.choice([0, 0, 3, 12, 40])
                   for _ in range(rng.randrange(0, 3))}
        counts = laid_over(counts, changes)
        table = site_table(CATALOG, RULESET, counts, WEIGHTS)
        assert site_tables.SITES[0][1] is counts  # kept as it is, for the next ones to name
        expected = fresh(counts)
        assert table.static.tobytes() == expected.static.tobytes()
        assert table.sites == expected.sites
        site_tables.SITES[:] = [(CATALOG, counts, site_tables.SITES[0][2], table)]


def test_counts_laid_over_other_counts_are_compared_not_trusted():
    built = Counts({"L1": 5})
    site_table(CATALOG, RULESET, built, WEIGHTS)
    elsewhere = Counts({"L1": 5, "L2": 9})  # not the counts the table was built from
    table = site_table(CATALOG, RULESET, laid_over(elsewhere, {"L3": 1}), WEIGHTS)
    assert table.static.tobytes() == fresh({"L1": 5, "L2": 9, "L3": 1}).static.tobytes()


def test_a_plain_dict_is_copied_so_changing_it_later_cannot_fool_the_next_comparison():
    counts = {"L1": 5}
    site_table(CATALOG, RULESET, counts, WEIGHTS)
    counts["L1"] = 50
    table = site_table(CATALOG, RULESET, counts, WEIGHTS)
    assert table.static.tobytes() == fresh({"L1": 50}).static.tobytes()


def test_laid_over_counts_do_not_keep_their_base_alive():
    base = Counts({"L1": 1})
    later = laid_over(base, {"L2": 2})
    del base
    gc.collect()
    assert later.moved_since({"L1": 1}) is None
