"""The oracle's cost bound narrows the MIP and never changes its optimum."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.sourcing_oracle import optimal_plan
from service.domain.sourcing import SourcingLine, Weights, plan_sourcing
from tests.unit.sourcing.conftest import NEWARK, NYC, PHILADELPHIA, location, split
from tests.unit.sourcing.test_plan_matches_the_exact_optimum import instances

pytest.importorskip("highspy")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from(("planner", "below", "above", "zero", "negative")))
def test_any_cost_bound_gives_the_same_optimum_as_none(instance, kind):
    lines, ship_to, candidates, weights, policy, shipping = instance
    planned = plan_sourcing(lines, ship_to, candidates, weights, policy, shipping).total_cost
    bound = {"planner": planned, "below": planned / 2 - 10, "above": planned + 100,
             "zero": 0.0, "negative": -3000.0}[kind]
    whole = optimal_plan(lines, ship_to, candidates, weights, policy, shipping)
    bounded = optimal_plan(lines, ship_to, candidates, weights, policy, shipping,
                           cost_bound=bound)
    assert (bounded.status, bounded.policy_applied, bounded.units) == (
        whole.status, whole.policy_applied, whole.units)
    assert bounded.total_cost == pytest.approx(whole.total_cost, abs=1e-6)


def test_a_plan_whose_dear_locations_a_negative_one_pays_for_is_still_the_optimum(no_shipping):
    weights = Weights(distance_km=1.0)
    candidates = [
        location("near", NEWARK, {"A": 1}),
        location("far", PHILADELPHIA, {"A": 1}),
        location("favoured", PHILADELPHIA, {"A": 1}, rule_cost=-1000.0),
    ]
    lines = [SourcingLine("A", 3)]
    whole = optimal_plan(lines, NYC, candidates, weights, split(3), no_shipping)
    bounded = optimal_plan(lines, NYC, candidates, weights, split(3), no_shipping,
                           cost_bound=whole.total_cost)
    assert set(bounded.shipments) == {"near", "far", "favoured"}
    assert bounded.total_cost == pytest.approx(whole.total_cost)


def test_a_bound_below_every_plan_falls_back_to_the_whole_mip(no_shipping):
    candidates = [location("near", NEWARK, {"A": 2}), location("far", PHILADELPHIA, {"A": 2})]
    lines = [SourcingLine("A", 2)]
    whole = optimal_plan(lines, NYC, candidates, Weights(distance_km=1.0), split(1), no_shipping)
    bounded = optimal_plan(lines, NYC, candidates, Weights(distance_km=1.0), split(1),
                           no_shipping, cost_bound=1.0)
    assert bounded.shipments == whole.shipments == {"near": {"A": 2}}
