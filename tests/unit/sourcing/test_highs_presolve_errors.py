"""HiGHS 1.16's presolve fails on some backorder instances ("Solve error" in the second
phase, least cost at the most units): the adapter solves them again without presolve, so the
plan is proven and optimal. The instance is the one the property test
(test_any_plan_the_highs_adapter_proves_is_the_oracle_optimum) found."""

from bench.sourcing_oracle import optimal_plan
from service.domain.sourcing import SourcingLine, plan_sourcing
from service.domain.sourcing.deciding import Limits
from service.domain.sourcing.model import Candidate, ShippingModel, SplitPolicy, Weights
from service.solvers import highs

LINES = [SourcingLine("A", 2), SourcingLine("B", 2), SourcingLine("C", 1)]
SHIP_TO = (25.0, -67.0)
WEIGHTS = Weights(distance_km=1.0, backlog_ratio=0.0, processing_hours=5.0, shipping_cost=2.0,
                  priority=10.0)
POLICY = SplitPolicy(mode="ship_complete", max_shipments=1, shipment_penalty=0.0,
                     fallback="allow_split")
SHIPPING = ShippingModel(base_per_shipment=5.0, per_km=0.01, zones=(), beyond=None)


def candidate(location_id: str, lon: float, available: dict[str, int]) -> Candidate:
    return Candidate(location_id=location_id, lat=25.0, lon=lon, available=available,
                     backlog_ratio=0.0, processing_hours=4.0, priority=0, rule_cost=0.0,
                     matched_rules=())


CANDIDATES = [candidate("L0", -67.0, {"A": 0, "B": 0, "C": 1}),
              candidate("L1", -68.0, {"A": 2, "B": 0, "C": 1}),
              candidate("L2", -67.0, {"A": 0, "B": 1, "C": 1}),
              candidate("L3", -68.0, {"A": 2, "B": 2, "C": 0})]


def test_a_backorder_highs_presolve_fails_on_is_solved_without_it_and_proven():
    limits = Limits(solver=highs.solve, nodes=1, partial_nodes=1)
    plan = plan_sourcing(LINES, SHIP_TO, CANDIDATES, WEIGHTS, POLICY, SHIPPING, limits=limits)
    exact = optimal_plan(LINES, SHIP_TO, CANDIDATES, WEIGHTS, POLICY, SHIPPING)
    search = plan.explanation["search"]
    assert search["solved_by"] == "highs" and search["proven_optimal"] is True
    assert search["solver"]["status"] == "optimal"
    assert (plan.policy_applied, plan.fulfilled_units) == (exact.policy_applied, exact.units)
    assert abs(plan.total_cost - exact.total_cost) < 1e-6
