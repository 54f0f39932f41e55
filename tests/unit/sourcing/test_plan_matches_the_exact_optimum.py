"""Property tests: on small instances plan_sourcing equals the HiGHS optimum of its objective."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.sourcing_oracle import closest_location_heuristic, optimal_plan
from service.domain.sourcing import (
    Candidate,
    ShippingModel,
    SourcingLine,
    SplitPolicy,
    Weights,
    plan_sourcing,
)
from tests.unit.sourcing.conftest import NEWARK, NYC, PHILADELPHIA, location, split

pytest.importorskip("highspy")

SKUS = ("A", "B", "C", "D")


@st.composite
def instances(draw):
    n_lines = draw(st.integers(1, 4))
    lines = [SourcingLine(sku, draw(st.integers(1, 4))) for sku in SKUS[:n_lines]]
    candidates = [
        Candidate(
            location_id=f"L{n}",
            lat=draw(st.floats(25, 49)),
            lon=draw(st.floats(-124, -67)),
            available={line.sku: draw(st.sampled_from((0, 0, 1, 2, 3, 6))) for line in lines},
            backlog_ratio=draw(st.floats(0, 2)),
            processing_hours=draw(st.sampled_from((4.0, 12.0, 48.0))),
            priority=draw(st.integers(0, 4)),
            rule_cost=draw(st.sampled_from((0.0, 0.0, -50.0, 40.0, -2500.0))),
        )
        for n in range(draw(st.integers(0, 8)))
    ]
    weights = Weights(1.0, draw(st.sampled_from((0.0, 200.0))), 5.0, 2.0, 10.0)
    policy = SplitPolicy(
        draw(st.sampled_from(("ship_complete", "allow_split"))),
        draw(st.integers(1, 3)),
        draw(st.sampled_from((0.0, 10.0, 150.0))),
        draw(st.sampled_from(("allow_split", "backorder", "reject"))),
    )
    shipping = draw(
        st.sampled_from(
            (ShippingModel(5.0, 0.01), ShippingModel(zones=((500, 8.0), (1500, 12.0)), beyond=20))
        )
    )
    ship_to = (draw(st.floats(25, 49)), draw(st.floats(-124, -67)))
    return lines, ship_to, candidates, weights, policy, shipping


def assert_feasible(plan, lines, candidates, policy):
    """Never more than available, full lines when nothing is short, shipments within policy."""
    available = {c.location_id: c.available for c in candidates}
    limit = 1 if plan.policy_applied in ("ship_complete",) else policy.max_shipments
    assert len(plan.shipments) <= limit
    assert len({s.location_id for s in plan.shipments}) == len(plan.shipments)
    shipped = {line.sku: 0 for line in lines}
    for shipment in plan.shipments:
        assert shipment.lines, "a shipment carries at least one unit"
        for line in shipment.lines:
            assert 0 < line.quantity <= available[shipment.location_id][line.sku]
            shipped[line.sku] += line.quantity
    short = {line.sku: line.quantity for line in plan.unfulfilled}
    for line in lines:
        assert shipped[line.sku] + short.get(line.sku, 0) == line.quantity


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_plan_cost_equals_the_highs_optimum_and_the_plan_is_feasible(instance):
    lines, ship_to, candidates, weights, policy, shipping = instance
    plan = plan_sourcing(lines, ship_to, candidates, weights, policy, shipping)
    exact = optimal_plan(lines, ship_to, candidates, weights, policy, shipping)
    assert_feasible(plan, lines, candidates, policy)
    assert plan.policy_applied == exact.policy_applied
    if exact.status == "optimal":
        assert plan.fulfilled_units == exact.units
        assert plan.total_cost == pytest.approx(exact.total_cost, abs=1e-6)
    else:
        assert plan.shipments == ()


def test_a_location_of_negative_cost_joins_the_plan_when_it_can_carry_a_unit(no_shipping):
    weights = Weights(distance_km=1.0)
    candidates = [
        location("near", NEWARK, {"A": 2}),
        location("favoured", PHILADELPHIA, {"A": 1}, rule_cost=-1000.0),
    ]
    plan = plan_sourcing([SourcingLine("A", 2)], NYC, candidates, weights, split(3), no_shipping)
    exact = optimal_plan([SourcingLine("A", 2)], NYC, candidates, weights, split(3), no_shipping)
    assert {s.location_id for s in plan.shipments} == {"near", "favoured"}
    assert plan.total_cost == pytest.approx(exact.total_cost, abs=1e-6)


def test_the_oracle_reports_infeasible_when_nothing_covers_and_the_fallback_rejects():
    candidates = [location("a", NEWARK, {"A": 1})]
    exact = optimal_plan(
        [SourcingLine("A", 2)], NYC, candidates, Weights(), split(3, fallback="reject"), None
    )
    assert exact.policy_applied == "fallback:reject"
    assert exact.shipments == {}


def test_the_closest_location_heuristic_takes_each_line_from_the_nearest_holders():
    candidates = [
        location("philly", PHILADELPHIA, {"A": 5, "B": 1}),
        location("newark", NEWARK, {"A": 1}),
    ]
    naive = closest_location_heuristic(
        [SourcingLine("A", 2), SourcingLine("B", 1)], NYC, candidates, Weights(1.0), split(3, 10.0)
    )
    assert naive.shipments == {"newark": {"A": 1}, "philly": {"A": 1, "B": 1}}
    assert naive.shipment_count == 2
    assert naive.unfulfilled_units == 0
    assert naive.total_cost > 20.0
