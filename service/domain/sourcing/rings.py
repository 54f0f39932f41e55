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

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from service.domain.geo import EARTH_RADIUS_KM
from service.domain.sourcing.costing import LatLon, shipping_costs
from service.domain.sourcing.deciding import Limits
from service.domain.sourcing.model import (
    Candidate,
    ShippingModel,
    SourcingLine,
    SourcingPlan,
    SplitPolicy,
    Weights,
)
from service.domain.sourcing.planner import plan_sourcing

FIRST_RING = 16
RING_GROWTH = 4
_SLACK = 1e-9  # numpy and math may round the last digit differently: floors stay below


@dataclass(frozen=True, slots=True)
class Site:
    """What is known of a ship location before reading its stock."""

    location_id: str
    lat: float
    lon: float
    backlog_ratio: float = 0.0
    processing_hours: float = 0.0
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Floors:
    """Every location's cost floor (shipment penalty included), in no particular order.

    The rings take the cheapest floors first (`Unread`); sorting them all, ten thousand
    locations for an order that reads sixteen, was most of a plan's time at 10,000 locations.
    """

    ids: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @property
    def location_ids(self) -> list[str]:
        """Every location, cheapest floor first (ties: table order)."""
        return self.ids[self._sorted()].tolist()

    @property
    def floors(self) -> list[float]:
        """Every floor, rising."""
        return self.values[self._sorted()].tolist()

    def _sorted(self) -> np.ndarray:
        return np.argsort(self.values, kind="stable")


class Unread:
    """The locations not read yet, handed out by rising floor: each ring takes the cheapest
    left (a partial sort, ties in table order within the ring), so whatever was read, every
    unread location's floor is at least `lowest()`."""

    def __init__(self, floors: Floors) -> None:
        self.ids, self.values = floors.ids, floors.values
        self.rest = np.arange(len(floors))

    def __len__(self) -> int:
        return len(self.rest)

    def take(self, size: int) -> list[str]:
        """The `size` unread locations of lowest floor (all that are left when fewer)."""
        rest, values = self.rest, self.values
        if size < len(rest):
            split = np.argpartition(values[rest], size)
            taken, self.rest = rest[split[:size]], rest[split[size:]]
        else:
            taken, self.rest = rest, rest[:0]
        return self.ids[taken[np.lexsort((taken, values[taken]))]].tolist()

    def below(self, limit: float) -> int:
        """How many unread locations have a floor below `limit`."""
        return int(np.count_nonzero(self.values[self.rest] < limit))

    def lowest(self) -> float | None:
        """The lowest floor of the unread locations (None: every location was read)."""
        return float(self.values[self.rest].min()) if len(self.rest) else None


class SiteTable:
    """The sites as arrays, so the floors of a thousand locations cost microseconds."""

    def __init__(self, sites: Sequence[Site], weights: Weights,
                 rule_cost_floor: float | Sequence[float]) -> None:
        """`rule_cost_floor`: the most rules can lower a site's cost, one figure for every
        site or one per site (rules decided by the location's own facts counted exactly)."""
        self.sites = list(sites)
        self.rows = {site.location_id: row for row, site in enumerate(self.sites)}
        self.ids = np.array([site.location_id for site in sites], dtype=object)
        self.phi = np.radians(np.array([s.lat for s in sites], dtype=float))
        self.lam = np.radians(np.array([s.lon for s in sites], dtype=float))
        self.cos_phi = np.cos(self.phi)
        self.rule_cost_floor = np.broadcast_to(
            np.asarray(rule_cost_floor, dtype=float), (len(self.sites),))
        self.static = np.array([_static_cost(s, weights) for s in sites],
                               dtype=float) + self.rule_cost_floor
        self.weights = weights

    def with_backlog(self, ratios: Mapping[str, float]) -> SiteTable:
        """A copy with the backlog ratios of some sites changed (others' are ignored), equal
        to a table built afresh from the changed sites; this table is left as it is.

        A replay's backlog moves with every order it places: rebuilding a thousand sites
        per plan was most of the replay's time, patching the few that moved is not.
        """
        table = copy.copy(self)
        table.sites, table.static = list(self.sites), self.static.copy()
        for location_id, ratio in ratios.items():
            row = self.rows.get(location_id)
            if row is None:
                continue
            site = table.sites[row] = replace(self.sites[row], backlog_ratio=ratio)
            table.static[row] = np.float64(_static_cost(site, self.weights)) + (
                self.rule_cost_floor[row])
        return table

    def floors(self, ship_to: LatLon, shipping: ShippingModel, penalty: float) -> Floors:
        """Every site's cost floor for a shipment to `ship_to`."""
        km = self._distance_km(ship_to)
        low, high = km * (1 - _SLACK) - _SLACK, km * (1 + _SLACK) + _SLACK
        ship = np.minimum(shipping_costs(shipping, low), shipping_costs(shipping, high))
        weights = self.weights
        # a negative weight profits from the longest distance the rounding allows
        distance = np.minimum(weights.distance_km * low, weights.distance_km * high)
        floor = distance + weights.shipping_cost * ship + self.static + penalty
        floor -= _SLACK * (1 + np.abs(floor))
        return Floors(self.ids, floor)

    def _distance_km(self, ship_to: LatLon) -> np.ndarray:
        phi2, lam2 = np.radians(ship_to[0]), np.radians(ship_to[1])
        a = (np.sin((phi2 - self.phi) / 2) ** 2
             + self.cos_phi * np.cos(phi2) * np.sin((lam2 - self.lam) / 2) ** 2)
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _static_cost(site: Site, weights: Weights) -> float:
    """A site's cost terms that do not depend on the destination (rules' floor excluded)."""
    return (weights.backlog_ratio * site.backlog_ratio
            + weights.processing_hours * site.processing_hours
            + weights.priority * site.priority)


def rule_cost_floor(add_cost_points: Sequence[Sequence[float]]) -> float:
    """The most a location's matching rules can lower its cost: every discounting rule at once.

    `add_cost_points` holds, per rule, the points of its add_cost actions.
    """
    return sum(min(0.0, float(sum(points))) for points in add_cost_points)


Fetch = Callable[[Sequence[str]], Sequence[Candidate]]


def plan_in_rings(
    lines: Sequence[SourcingLine],
    ship_to: LatLon,
    floors: Floors,
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
    others = (shipments - 1) * min(0.0, float(floors.values.min())) if total else 0.0
    unread = Unread(floors)
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
            size = min(grown, max(1, unread.below(result.total_cost - others)))


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
