"""Scoring over a CandidatePool, and the pruning of locations before the search (issue 18)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain.sourcing import (
    Candidate,
    CandidatePool,
    ShippingModel,
    SourcingLine,
    Weights,
    plan_sourcing,
)
from service.domain.sourcing.costing import location_cost
from service.domain.sourcing.cover import CoverSearch
from service.domain.sourcing.partial import PartialSearch
from service.domain.sourcing.planner import merge_lines
from service.domain.sourcing.search import (
    Budget,
    all_can_ship,
    reduce_items,
    representatives,
    undominated,
)
from tests.unit.sourcing.conftest import (
    BOSTON,
    CHICAGO,
    NEWARK,
    NYC,
    PHILADELPHIA,
    location,
    split,
)
from tests.unit.sourcing.test_plan_matches_the_exact_optimum import instances

UNLIMITED = 10**9


def _scored(instance):
    lines, ship_to, candidates, weights, policy, shipping = instance
    order = merge_lines(lines)
    scored = CandidatePool(candidates).score(order, ship_to, weights, shipping)
    demand = tuple(line.quantity for line in order)
    k = 1 if policy.mode == "ship_complete" else policy.max_shipments
    return scored, scored.costs + policy.shipment_penalty, demand, k


def _every_location(scored, costs):
    """Every scored location as its own item: the search with nothing pruned."""
    n = len(scored)
    caps = [scored.caps_of(j) for j in range(n)]
    items = reduce_items(caps, costs.tolist(), n, scored.ranking.tolist())
    items.pred = [-1] * len(items.costs)  # not even equal locations are tied to each other
    return items


def _cheapest_cover_by_enumeration(scored, costs, demand, k):
    """The least total cost of <= k locations covering every line, each carrying a unit."""
    best = None
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(len(scored)), size):
            caps = [scored.caps_of(j) for j in subset]
            covers = all(sum(c[i] for c in caps) >= q for i, q in enumerate(demand))
            if covers and all_can_ship(caps, demand):
                cost = float(sum(costs[j] for j in subset))
                best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_pruned_cover_search_finds_the_cheapest_cover_of_every_subset(instance):
    scored, costs, demand, k = _scored(instance)
    items = undominated(representatives(scored.caps, costs, scored.ranking, k), k)
    pruned = CoverSearch(items, demand, k, Budget(UNLIMITED)).run()
    best = _cheapest_cover_by_enumeration(scored, costs, demand, k)
    if best is None:
        assert pruned.chosen == ()
    else:
        assert pruned.cost == pytest.approx(best, abs=1e-6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_pruned_backorder_search_ships_what_the_search_over_every_location_ships(instance):
    scored, costs, demand, k = _scored(instance)
    items = undominated(representatives(scored.caps, costs, scored.ranking, k), k)
    pruned = PartialSearch(items, demand, k, Budget(UNLIMITED)).run()
    full = PartialSearch(_every_location(scored, costs), demand, k, Budget(UNLIMITED)).run()
    assert not pruned.exhausted and not full.exhausted
    assert pruned.units == full.units
    assert pruned.cost == pytest.approx(full.cost, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 4), st.integers(1, 4))
def test_representatives_keep_the_k_cheapest_of_each_capability_group(seed, lines, k):
    rng = random.Random(seed)
    n = rng.randint(0, 60)
    caps = np.array([[rng.choice((0, 1, 2)) for _ in range(lines)] for _ in range(n)],
                    dtype=np.int64).reshape(n, lines)
    costs = np.array([rng.choice((1.0, 2.0, 3.5, -4.0, rng.random())) for _ in range(n)])
    ranking = np.argsort(costs, kind="stable")
    fast = representatives(caps, costs, ranking, k)
    slow = reduce_items([tuple(row) for row in caps.tolist()], costs.tolist(), k,
                        ranking.tolist())
    assert (fast.origin, fast.pred, fast.caps, fast.costs) == (
        slow.origin, slow.pred, slow.caps, slow.costs)


def test_capability_groups_are_told_apart_when_the_quantities_are_too_large_to_number():
    caps = np.array([[2**40] * 3, [2**40] * 3, [2**40, 2**40, 1]], dtype=np.int64)
    costs = np.array([1.0, 2.0, 3.0])
    items = representatives(caps, costs, np.arange(3), 1)
    assert items.origin == [0, 2]


def test_a_location_three_cheaper_ones_dominate_is_dropped_for_three_shipments():
    caps = np.array([[2, 1], [2, 2], [3, 1], [1, 1], [2, 2]], dtype=np.int64)
    costs = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    items = undominated(representatives(caps, costs, np.arange(5), 3), 3)
    assert items.origin == [0, 1, 2, 4]  # 3 (1, 1) has three cheaper dominators; 4 one


def test_a_pool_finds_the_holders_of_a_sku_lazily_or_all_at_once_alike():
    candidates = [location("a", NEWARK, {"A": 2, "B": 0}), location("b", BOSTON, {"B": -3}),
                  location("c", CHICAGO, {"A": 1, "C": 5}), location("d", NYC, {})]
    lazy, indexed = CandidatePool(candidates), CandidatePool(candidates)
    indexed.index_every_sku()
    for sku, rows, units in (("A", [0, 2], [2, 1]), ("B", [], []), ("C", [2], [5]),
                             ("Z", [], [])):
        for pool in (lazy, indexed):
            held, got = pool.holders(sku)
            assert (held.tolist(), got.tolist()) == (rows, units)
    assert len(lazy) == 4 and lazy[2].location_id == "c" and list(lazy) == candidates


def test_pool_costs_equal_location_cost_for_every_candidate():
    weights = Weights(1.0, 200.0, 5.0, 2.0, 10.0)
    candidates = [
        location("a", NEWARK, {}, backlog_ratio=0.5, processing_hours=4.0, priority=3),
        location("b", CHICAGO, {}, rule_cost=-50.0, priority=1),
        location("c", PHILADELPHIA, {}, processing_hours=48.0),
    ]
    pool = CandidatePool(candidates)
    for shipping in (ShippingModel(2.0, 0.01), ShippingModel(zones=((200, 4.0),), beyond=9.0)):
        fast = pool.costs(np.arange(3), NYC, weights, shipping).tolist()
        slow = [location_cost(c, NYC, weights, shipping) for c in candidates]
        assert fast == pytest.approx(slow, abs=1e-9)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_a_plan_over_a_pool_equals_the_plan_over_the_plain_candidate_list(instance):
    lines, ship_to, candidates, weights, policy, shipping = instance
    pool = CandidatePool(candidates)
    pool.index_every_sku()
    plain = plan_sourcing(lines, ship_to, candidates, weights, policy, shipping)
    pooled = plan_sourcing(lines, ship_to, pool, weights, policy, shipping)
    assert pooled == plain
    assert pooled.explanation == plain.explanation | {"search": pooled.explanation["search"]}


def test_a_plan_over_many_interchangeable_locations_names_the_cheapest_holders():
    far = [Candidate(f"far{n}", *CHICAGO, {"A": 1, "B": 1}) for n in range(2_000)]
    near = [location("near", NEWARK, {"A": 1}), location("nearer", NYC, {"B": 1})]
    plan = plan_sourcing([SourcingLine("A", 1), SourcingLine("B", 1)], NYC, far + near,
                         Weights(distance_km=1.0), split(3, 0.0))
    assert {s.location_id for s in plan.shipments} == {"near", "nearer"}
    lines = plan.explanation["lines"]
    assert [c["location"] for c in lines[0]["ranked"]][:2] == ["near", "far0"]
    assert lines[0]["candidates_considered"] == 2_001
    assert plan.explanation["candidates"]["holding_any_line"] == 2_002



def test_pruning_out_of_time_keeps_every_item_it_did_not_look_at():
    caps = np.array([[1, 1]] * 4 + [[1, 0]] * 600, dtype=np.int64)
    costs = np.arange(604, dtype=float)
    items = representatives(caps, costs, np.arange(604), 700)
    looked = undominated(items, 3, chunk=256)
    stopped = undominated(items, 3, chunk=256, stop=lambda: True)
    assert looked.origin == [0, 1, 2]  # the rest have three cheaper dominators: 0, 1 and 2
    assert stopped.origin == [0, 1, 2] + list(range(256, 604))  # the first chunk only
