"""Sourcing that reads only the locations that can matter: rings of rising cost floors.

Before its stock is read, every location's shipment cost has a floor: the exact weighted
distance, shipping, backlog, processing and priority terms, plus the most negative sum of
`add_cost` points the ruleset's rules could add, plus the shipment penalty. Locations are read
in rings of rising floor. Once the primary policy's best plan over what was read costs no more
than the floor of every unread location (lowered by what a plan's other shipments could
subtract when costs can be negative), no plan using an unread location is cheaper: the plan is
optimal over all locations, and the unread ones never had to be fetched.

When the read rings cannot satisfy the primary policy (short stock, a fallback), reading
continues to the last ring, so fallbacks and the reasons for unfulfilled lines are decided on
every location, exactly as without rings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from service.domain.sourcing.costing import LatLon
from service.domain.sourcing.deciding import Limits
from service.domain.sourcing.floors import Floors, Site, Unread
from service.domain.sourcing.model import (
    Candidate,
    ShippingModel,
    SourcingLine,
    SourcingPlan,
    SplitPolicy,
    Weights,
)
from service.domain.sourcing.planner import plan_sourcing
from service.domain.sourcing.site_floors import (
    NEAR_FIRST_FROM,
    NearUnread,
    SiteFloors,
    SiteTable,
)

__all__ = ["FIRST_RING", "NEAR_FIRST_FROM", "RING_GROWTH", "Floors", "NearUnread", "Site",
           "SiteFloors", "SiteTable", "Unread", "plan_in_rings", "rule_cost_floor"]

# The first ring when none is given (the service passes config's sourcing.first_ring, whose
# default is this): 8 locations read 18 % fewer blocks an order than 16 on the 1M bench
# network (bench/instructions_per_order.py, bench/changes.md)
FIRST_RING = 8
RING_GROWTH = 4


def rule_cost_floor(add_cost_points: Sequence[Sequence[float]]) -> float:
    """The most a location's matching rules can lower its cost: every discounting rule at once.

    `add_cost_points` holds, per rule, the points of its add_cost actions.
    """
    return sum(min(0.0, float(sum(points))) for points in add_cost_points)


Fetch = Callable[[Sequence[str]], Sequence[Candidate]]
RingFloors = Floors | SiteFloors


def plan_in_rings(
    lines: Sequence[SourcingLine],
    ship_to: LatLon,
    floors: RingFloors,
    fetch: Fetch,
    weights: Weights,
    policy: SplitPolicy,
    shipping: ShippingModel,
    explain: bool = True,
    first_ring: int | None = None,
    limits: Limits | None = None,
) -> SourcingPlan:
    """The same plan as `plan_sourcing` over every location, fetching candidates ring by ring.

    `fetch(location_ids)` returns the candidates among those locations (those excluded or
    holding nothing are simply absent). `limits`' time runs from this call for every ring;
    before the last ring only the primary policy is tried (its fallbacks need every location).
    Once the primary policy has a plan, the next ring is at most the unread locations whose
    floor is below its cost (no other can lower it): at 10,000 locations the floors lie close
    together, and a ring grown by count read ~40 locations an order where ~20 could matter.
    """
    limits = limits or Limits()
    if limits.started is None:
        limits = replace(limits, started=limits.clock())
    total = len(floors)
    shipments = 1 if policy.mode == "ship_complete" else policy.max_shipments
    unread = floors.unread()
    others = (shipments - 1) * unread.lowest_up_to(0.0)
    candidates: list[Candidate] = []
    size = grown = max(1, first_ring or FIRST_RING)
    while True:
        candidates.extend(fetch(unread.take(size)))
        read = total - len(unread)
        result = plan_sourcing(lines, ship_to, candidates, weights, policy, shipping, explain,
                               limits, primary_only=read < total)
        lowest = unread.lowest()
        unread_floor = None if lowest is None else lowest + others
        if unread_floor is None or (result.policy_applied == policy.mode
                                    and result.total_cost <= unread_floor):
            return _noting_rings(result, read, total, unread_floor, limits)
        size = grown = grown * RING_GROWTH
        if result.policy_applied == policy.mode:  # only these can make a cheaper plan
            size = min(grown, max(1, unread.below(result.total_cost - others, grown)))


def _noting_rings(result: SourcingPlan, read: int, total: int, unread_floor: float | None,
                  limits: Limits) -> SourcingPlan:
    """Say in the explanation how many locations were read and what the others cost at least."""
    if not result.explanation:
        return result
    explanation = dict(result.explanation)
    explanation["candidates"] = {
        **explanation.get("candidates", {}),
        "locations_read": read,
        "locations_not_read": total - read,
        "unread_cost_floor": None if unread_floor is None else round(unread_floor, 6),
    }
    if "search" in explanation:  # the time of every ring's plan, reads included
        started = limits.started if limits.started is not None else limits.clock()
        explanation["search"] = {**explanation["search"],
                                 "ms": round((limits.clock() - started) * 1000, 3)}
    return SourcingPlan(result.shipments, result.unfulfilled, result.total_cost,
                        result.policy_applied, explanation)
