"""plan_sourcing: the cheapest plan under the split policy, with its fallback and explanation.

Objective (bench/sourcing_oracle.py minimises exactly the same as a MIP; so does the HiGHS
adapter a search stopped unproven hands its instance to, see deciding.py):
    total = sum over shipments of (location_cost + shipment_penalty)
The penalty is charged per shipment under both modes, so a ship_complete plan (one shipment)
carries it once and compares directly with split plans. Every shipment carries at least one
unit; a location of negative cost may therefore join a plan only if it can carry a unit.

Policy and fallback (`policy_applied` names what was done):
- ship_complete: the cheapest single location holding every line in full -> "ship_complete".
- allow_split: the cheapest plan of <= max_shipments covering every line -> "allow_split".
- when that is impossible, the fallback: reject -> nothing ships, "fallback:reject";
  ship_complete + allow_split -> the allow_split plan, "fallback:allow_split";
  backorder -> the plan within the mode's shipment limit (1 for ship_complete) shipping the
  most units, then the cheapest, "fallback:backorder". A failed allow_split fallback, and
  allow_split mode with an allow_split fallback, also end in that backorder plan (with
  max_shipments).
"""

from __future__ import annotations

from collections.abc import Sequence

from service.domain.sourcing.costing import LatLon, cost_factors, location_cost
from service.domain.sourcing.deciding import Limits, decide
from service.domain.sourcing.explain import explain_plan
from service.domain.sourcing.model import (
    Candidate,
    InvalidSourcingInput,
    Shipment,
    ShippingModel,
    SourcingLine,
    SourcingPlan,
    SplitPolicy,
    Weights,
)
from service.domain.sourcing.pool import Scored, as_pool
from service.domain.sourcing.search import allocate
from service.errors import problem


def merge_lines(lines: Sequence[SourcingLine]) -> tuple[SourcingLine, ...]:
    """Validate quantities and merge duplicate SKUs (first position kept)."""
    merged: dict[str, int] = {}
    problems = []
    for n, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            problems.append(problem(f"/lines/{n}/quantity", "expected an integer >= 1"))
        else:
            merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    if not lines:
        problems.append(problem("/lines", "expected at least one line"))
    if problems:
        raise InvalidSourcingInput("invalid order lines", problems)
    return tuple(SourcingLine(sku, q) for sku, q in merged.items())


def score_candidates(
    lines: tuple[SourcingLine, ...],
    ship_to: LatLon,
    candidates: Sequence[Candidate],
    weights: Weights,
    shipping: ShippingModel,
) -> Scored:
    """Capped units per line and location cost for every candidate that holds any line."""
    return as_pool(candidates).score(lines, ship_to, weights, shipping)


def plan_sourcing(
    lines: Sequence[SourcingLine],
    ship_to: LatLon,
    candidates: Sequence[Candidate],
    weights: Weights,
    policy: SplitPolicy,
    shipping: ShippingModel | None = None,
    explain: bool = True,
    limits: Limits | None = None,
    primary_only: bool = False,
) -> SourcingPlan:
    """The least-cost sourcing plan for `lines` under `policy` (see the module docstring).

    `limits`: the time the plan may take and the exact solver to prove it (default: node
    budgets only, no solver). `primary_only`: when the primary policy cannot be met, plan
    nothing and say `policy_applied="unsatisfied"` (the rings' inner reads).
    """
    limits = limits or Limits()
    started = limits.clock()
    shipping = shipping or ShippingModel()
    order = merge_lines(lines)
    demand = tuple(line.quantity for line in order)
    scored = score_candidates(order, ship_to, candidates, weights, shipping)
    decision = decide(scored, demand, policy, limits, primary_only)
    chosen, label = decision.chosen, decision.label
    chosen.sort(key=scored.cost_of)
    take = allocate([scored.caps_of(n) for n in chosen], demand)
    shipments = tuple(
        _shipment(scored.candidate(n), order, row, (ship_to, weights, shipping), policy)
        for n, row in zip(chosen, take, strict=True)
    )
    unfulfilled = _unfulfilled(order, take)
    total = sum(s.cost for s in shipments)
    explanation = {}
    if explain:
        explanation = explain_plan(
            order,
            scored,
            chosen,
            unfulfilled,
            label,
            policy,
            decision,
            len(candidates),
            lambda cand: cost_factors(cand, ship_to, weights, shipping),
        )
        explanation["search"]["max_plan_ms"] = limits.max_ms
        explanation["search"]["ms"] = round((limits.clock() - started) * 1000, 3)
    return SourcingPlan(shipments, unfulfilled, total, label, explanation)


def _shipment(
    cand: Candidate,
    order: tuple[SourcingLine, ...],
    row: list[int],
    costing: tuple[LatLon, Weights, ShippingModel],
    policy: SplitPolicy,
) -> Shipment:
    factors = cost_factors(cand, *costing)
    factors["shipment_penalty"] = policy.shipment_penalty
    cost = location_cost(cand, *costing) + policy.shipment_penalty
    lines = tuple(SourcingLine(line.sku, q) for line, q in zip(order, row, strict=True) if q)
    return Shipment(cand.location_id, lines, cost, factors)


def _unfulfilled(order: tuple[SourcingLine, ...], take: list[list[int]]
                 ) -> tuple[SourcingLine, ...]:
    short = []
    for i, line in enumerate(order):
        missing = line.quantity - sum(row[i] for row in take)
        if missing > 0:
            short.append(SourcingLine(line.sku, missing))
    return tuple(short)
