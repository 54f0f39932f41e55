"""Every sourcing loop whose work grows with the candidates reaches the max_plan_ms check: with
the deadline passed at that point, the plan comes back promptly, valid (or the documented
fallback), and says it hit the deadline."""

from __future__ import annotations

import itertools
import random
import time

import pytest

from bench.adversarial import POLICY, SHIP_TO, SHIPPING, WEIGHTS, order, pairs, scarce, ties
from service.domain.sourcing import SplitPolicy, plan_sourcing
from service.domain.sourcing.cover import CoverSearch
from service.domain.sourcing.deciding import Limits
from service.domain.sourcing.partial import PartialSearch
from service.domain.sourcing.search import (
    TICKS_PER_LOOK,
    Budget,
    Items,
    ship_assignment,
)
from tests.unit.sourcing.test_plan_matches_the_exact_optimum import assert_feasible

DEADLINE = 1.0


class TripClock:
    """Reads 0 (before the deadline) until `trip()` says the point under test is reached, then
    2 (past it) from then on; counts the reads after the trip."""

    def __init__(self, trip=lambda: True) -> None:
        self.trip, self.tripped, self.reads_after = trip, False, 0

    def __call__(self) -> float:
        if self.tripped:
            self.reads_after += 1
            return 2 * DEADLINE
        self.tripped = bool(self.trip())
        return 2 * DEADLINE if self.tripped else 0.0


def distinct_items(costs: list[float], caps: list[tuple[int, ...]]) -> Items:
    """Items with no two alike (no predecessor), in the given (rising cost) order."""
    return Items(costs, caps, [-1] * len(costs), list(range(len(costs))))


def covers(caps: list[tuple[int, ...]], demand: tuple[int, ...]) -> bool:
    return all(sum(cap[i] for cap in caps) >= q for i, q in enumerate(demand))


def test_the_cover_search_extras_stop_promptly_at_the_deadline_and_keep_the_cover_found():
    """1,500 negative-cost locations: the extras try every subset of up to k - 1 of them."""
    negatives = 1_500
    demand = (10_000,)
    costs = [-1_000.0] + [-1.0 - (negatives - j) * 1e-6 for j in range(negatives)]
    caps = [(10_000,)] + [(j + 1,) for j in range(negatives)]  # the first covers alone
    search: list[CoverSearch] = []
    ticks_at_trip: list[int] = []

    def a_plan_is_in_hand() -> bool:
        if search and search[0].result.chosen:
            ticks_at_trip.append(budget.ticks)
        return bool(ticks_at_trip)

    clock = TripClock(a_plan_is_in_hand)
    budget = Budget(10**9, DEADLINE, clock, grace=DEADLINE)
    search.append(CoverSearch(distinct_items(costs, caps), demand, 4, budget))
    started = time.perf_counter()
    result = search[0].run()
    assert time.perf_counter() - started < 1.0  # without the checks: hours
    chosen_caps = [caps[j] for j in result.chosen]
    assert result.chosen and covers(chosen_caps, demand) and len(result.chosen) <= 4
    assert result.exhausted and budget.expired  # stopped, so not proven
    assert clock.reads_after <= 2
    assert budget.ticks - ticks_at_trip[0] <= 2 * TICKS_PER_LOOK  # not one per negative


def test_the_cover_greedy_seed_gives_no_plan_when_even_the_grace_time_is_up():
    """The documented fallback: no cover seeded, so the policy's next step plans."""
    n, demand = 5_000, (3, 3, 3)
    rng = random.Random(7)
    caps = [tuple(rng.randint(0, 2) for _ in demand) for _ in range(n)]
    costs = sorted(rng.uniform(1, 100) for _ in range(n))
    search: list[CoverSearch] = []
    clock = TripClock(lambda: search and search[0].result.exhausted)  # the seed's moment
    budget = Budget(1, DEADLINE, clock, grace=DEADLINE)
    search.append(CoverSearch(distinct_items(costs, caps), demand, 3, budget))
    result = search[0].run()
    assert result.chosen == () and result.exhausted and budget.expired
    assert clock.reads_after <= 2
    with_time = CoverSearch(distinct_items(costs, caps), demand, 3,
                            Budget(1, DEADLINE, TripClock(lambda: False), grace=DEADLINE)).run()
    assert covers([caps[j] for j in with_time.chosen], demand)  # with time, the seed covers


def test_the_backorder_greedy_at_a_passed_deadline_still_ships_units_after_a_few_looks():
    n, demand = 5_000, (10, 10, 10, 10)
    rng = random.Random(11)
    caps = [tuple(rng.randint(0, 3) for _ in demand) for _ in range(n)]
    costs = sorted(rng.uniform(1, 100) for _ in range(n))
    clock = TripClock()  # past the deadline from the first look
    budget = Budget(10**9, DEADLINE, clock, grace=DEADLINE)
    result = PartialSearch(distinct_items(costs, caps), demand, 3, budget).run()
    looked_at = range(TICKS_PER_LOOK)  # up to the first look at the clock
    best = max(looked_at, key=lambda j: (sum(map(min, demand, caps[j])), -costs[j]))
    assert result.chosen == (best,)  # the best of those looked at, then no further pick
    assert result.units == sum(map(min, demand, caps[best])) > 0
    assert result.exhausted and budget.expired
    assert clock.reads_after <= 2 and budget.ticks <= 2 * TICKS_PER_LOOK


def test_ship_assignment_at_a_passed_deadline_answers_not_known_promptly():
    """Eleven locations for ten single-unit lines: the backtracking tries all 10! ways."""
    demand = (1,) * 10
    caps = [(1,) * 10] * 11
    budget = Budget(10**9, DEADLINE, TripClock(), grace=DEADLINE)
    started = time.perf_counter()
    assert ship_assignment(caps, demand, budget) is None
    assert time.perf_counter() - started < 0.5 and budget.expired
    assert budget.ticks <= TICKS_PER_LOOK + len(caps) * len(demand) + 1


def first_assignment(caps, demand):
    """Plain backtracking: the first assignment in (location, line) order, or None."""
    for assign in itertools.product(*(range(len(demand)) for _ in caps)):
        if all(caps[n][i] > 0 for n, i in enumerate(assign)) and all(
                assign.count(i) <= q for i, q in enumerate(demand)):
            return list(assign)
    return None


def test_ship_assignment_with_time_left_is_the_first_assignment_with_or_without_a_budget():
    rng = random.Random(3)
    for _ in range(500):
        lines, k = rng.randint(1, 4), rng.randint(1, 5)
        demand = tuple(rng.randint(1, 3) for _ in range(lines))
        caps = [tuple(rng.randint(0, 2) for _ in range(lines)) for _ in range(k)]
        live = Budget(10**9, DEADLINE, TripClock(lambda: False))
        expected = first_assignment(caps, demand)
        assert ship_assignment(caps, demand, live) == expected
        assert ship_assignment(caps, demand) == expected
        assert not live.expired


def test_ship_assignment_without_a_budget_is_quick_where_plain_backtracking_takes_m_factorial():
    """Twelve locations holding every line but the last, which holds only the first: plain
    backtracking tried every order of the first eleven (11!) before moving the first."""
    m = 11
    demand = (1,) * (m + 1)
    caps = [(1,) * (m + 1)] * m + [(1,) + (0,) * m]
    started = time.perf_counter()
    assert ship_assignment(caps, demand) == [*range(1, m + 1), 0]  # the first in order
    assert time.perf_counter() - started < 0.5


NETWORKS = {
    "SKU pairs, 5,000 locations": (lambda: pairs(5_000, 2), order(10)),
    "equal-cost ties, 5,000 locations": (lambda: ties(5_000, 2), order(9)),
    "capacity-bound, 5,000 locations": (lambda: scarce(5_000, 2), order(12)),
    "SKU pairs, full covers": (lambda: pairs(5_000, 2, 10, 30), order(10)),
}
POLICIES = {
    "allow_split, backorder": POLICY,
    "ship_complete, allow_split": SplitPolicy("ship_complete", max_shipments=3,
                                              shipment_penalty=150, fallback="allow_split"),
}


@pytest.mark.parametrize("network, policy", list(itertools.product(NETWORKS, POLICIES)))
def test_a_plan_whose_deadline_passes_at_once_is_valid_and_says_it_hit_the_deadline(
        network, policy):
    build, lines = NETWORKS[network]
    candidates = build()
    clock = TripClock(lambda: False)
    limits = Limits(max_ms=DEADLINE * 1000, clock=clock, started=0.0)
    clock.trip = lambda: True  # every look from the plan's start on is past the deadline
    plan = plan_sourcing(lines, SHIP_TO, candidates, WEIGHTS, POLICIES[policy], SHIPPING,
                         limits=limits)
    assert_feasible(plan, lines, candidates, POLICIES[policy])
    search = plan.explanation["search"]
    assert search["deadline_hit"] is True and search["proven_optimal"] is False
    assert clock.reads_after <= 60  # a few looks per step, not one per candidate


def test_a_plan_within_its_deadline_says_it_did_not_hit_it_and_is_unchanged():
    candidates, lines = pairs(40, 3), order(10)
    bounded = plan_sourcing(lines, SHIP_TO, candidates, WEIGHTS, POLICY, SHIPPING,
                            limits=Limits(max_ms=60_000))
    unbounded = plan_sourcing(lines, SHIP_TO, candidates, WEIGHTS, POLICY, SHIPPING)
    assert bounded.explanation["search"]["deadline_hit"] is False
    assert unbounded.explanation["search"]["deadline_hit"] is False
    assert (bounded.shipments, bounded.unfulfilled, bounded.total_cost) == (
        unbounded.shipments, unbounded.unfulfilled, unbounded.total_cost)
