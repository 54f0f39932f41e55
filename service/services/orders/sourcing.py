"""Sourcing: candidates from the channel's ATS at each location, sourcing rules, the planner."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from service.domain.geo import haversine_km
from service.domain.orders import default_on_short, planner_fallback
from service.domain.sourcing import (
    Candidate,
    Shipment,
    ShippingModel,
    SourcingLine,
    SourcingPlan,
    SplitPolicy,
    Weights,
)
from service.domain.sourcing.deciding import Limits
from service.domain.sourcing.rings import plan_in_rings
from service.errors import ValidationFailed, problem
from service.rules.evaluate import evaluate_sourcing
from service.rules.model import Ruleset
from service.services.ats.deltas import channel_ats_reader
from service.services.orders import backlog
from service.services.orders.requests import SourcingRequest
from service.services.orders.site_tables import site_table
from service.settings import Settings
from service.solvers import highs
from service.store.catalog import CatalogSnapshot
from service.store.position_reads import StockAt
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


@dataclass(frozen=True)
class Sourced:
    """A plan and what it was made from (with the positions read, for allocating)."""

    plan: SourcingPlan
    ruleset: Ruleset
    rules_by_location: dict[str, list[dict[str, Any]]]
    excluded: dict[str, list[str]]
    seen: dict[tuple[str, str], StockAt] = field(default_factory=dict)
    on_short: str = "backorder"  # what the order does with what the plan leaves short


@dataclass(frozen=True)
class LocationAts:
    """{location: {sku: units the channel may sell}}, and every position read."""

    units: dict[str, dict[str, int]]
    seen: dict[tuple[str, str], StockAt]


def ats_at_locations(uow: UnitOfWork, ruleset: Ruleset, catalog: CatalogSnapshot,
                     channel: str, skus: Sequence[str], location_ids: Sequence[str]
                     ) -> LocationAts:
    """What the channel may sell of `skus` at `location_ids` (inactive locations sell nothing).

    The channel's rules are evaluated with the compiled predicates that keep the channel's
    ATS, so a plan never takes units the channel was not shown; positions alike in all the
    rules read (and in their availability) share one evaluation (`channel_ats_reader`).
    """
    found = LocationAts(defaultdict(dict), {})
    replayed = getattr(uow.positions, "ats_of", None)  # replay's memoised reader
    ats_of = (channel_ats_reader(ruleset, catalog, channel) if replayed is None else
              lambda row: replayed(ruleset, catalog, row, channel))
    for row in uow.positions.at(skus, location_ids):
        found.seen[(row.location_id, row.sku)] = row
        units = ats_of(row)
        if units > 0:
            found.units[row.location_id][row.sku] = units
    return found


class _CandidateReader:
    """Reads candidates for a ship order, a few locations at a time (see domain rings)."""

    def __init__(self, uow: UnitOfWork, ruleset: Ruleset, catalog: CatalogSnapshot,
                 req: SourcingRequest, counts: dict[str, int],
                 barred: Mapping[str, Collection[str]] | None = None) -> None:
        self.uow, self.ruleset, self.catalog, self.req = uow, ruleset, catalog, req
        self.counts = counts
        self.barred = barred or {}  # sku -> locations that may not ship it (they rejected it)
        self.skus = [line.sku for line in req.lines]
        self.order = req.order_facts()
        self.excluded: dict[str, list[str]] = defaultdict(list)
        self.seen: dict[tuple[str, str], StockAt] = {}
        self.barred_read: list[str] = []

    def __call__(self, location_ids: Sequence[str]) -> list[Candidate]:
        if self.barred_read:  # seen with the first ring, never candidates: the units they
            location_ids = [*location_ids, *self.barred_read]  # release are allocated as seen
            self.barred_read = []
        stock = ats_at_locations(self.uow, self.ruleset, self.catalog, self.req.channel,
                               self.skus, location_ids)
        self.seen.update(stock.seen)
        return [c for loc, units in stock.units.items()
                if (c := self._candidate(loc, self._allowed(loc, units)))]

    def barred_from_all(self) -> list[str]:
        """The locations barred from every SKU of the request (noted as rejected before;
        their positions are read with the first ring, as those of any location it holds)."""
        if not self.barred or not self.skus:
            return []
        first, *others = (set(self.barred.get(sku, ())) for sku in self.skus)
        everywhere = sorted(first.intersection(*others))
        self.excluded["rejected_before"].extend(everywhere)
        self.barred_read = list(everywhere)
        return everywhere

    def _allowed(self, location_id: str, units: dict[str, int]) -> dict[str, int]:
        """The units without the SKUs this location rejected for the order."""
        if not self.barred:
            return units
        barred = {sku for sku in units if location_id in self.barred.get(sku, ())}
        if barred and location_id not in self.excluded["rejected_before"]:
            self.excluded["rejected_before"].append(location_id)
        return {sku: q for sku, q in units.items() if sku not in barred}

    def _candidate(self, location_id: str, available: dict[str, int]) -> Candidate | None:
        if not available:
            return None
        facts = self.catalog.locations[location_id]
        if not facts["can_ship"]:
            return None
        lat, lon = self.req.ship_to or (0.0, 0.0)
        distance = haversine_km(lat, lon, facts["lat"], facts["lon"])
        ratio = backlog.ratio(self.counts.get(location_id, 0), facts["daily_capacity"])
        rule_facts = {**facts, **self.order, "distance_km": distance, "backlog_ratio": ratio}
        outcome = evaluate_sourcing(self.ruleset, rule_facts)
        if outcome.excluded:
            self.excluded["excluded_by_rule"].append(location_id)
            return None
        return Candidate(location_id, facts["lat"], facts["lon"], available, ratio,
                         facts["processing_hours"], facts["priority"], outcome.cost_adjustment,
                         outcome.matched)


def _traces(ruleset: Ruleset, catalog: CatalogSnapshot, req: SourcingRequest,
            result: SourcingPlan) -> dict[str, list[dict[str, Any]]]:
    """What each chosen location's sourcing rules saw and did (for the explanation)."""
    traces = {}
    lat, lon = req.ship_to or (0.0, 0.0)
    for shipment in result.shipments:
        facts = catalog.locations[shipment.location_id]
        rule_facts = {**facts, **req.order_facts(),
                      "distance_km": haversine_km(lat, lon, facts["lat"], facts["lon"]),
                      "backlog_ratio": shipment.factors.get("raw", {}).get("backlog_ratio", 0.0)}
        hits = evaluate_sourcing(ruleset, rule_facts, trace=True).hits
        traces[shipment.location_id] = [hit.to_dict() for hit in hits]
    return traces


def policy_of(settings: Settings, ruleset: Ruleset
              ) -> tuple[Weights, SplitPolicy, ShippingModel]:
    """The ruleset's weights and split policy, and config's shipping-cost model."""
    w, split = ruleset.sourcing.weights, ruleset.sourcing.split
    weights = Weights(**{k: float(w.get(k, 0)) for k in (
        "distance_km", "backlog_ratio", "processing_hours", "shipping_cost", "priority")})
    policy = replace(split, shipment_penalty=float(split.shipment_penalty))
    ship = settings.section("sourcing").get("shipping", {})
    zones = tuple((z["max_km"], z["cost"]) for z in ship.get("zones", []))
    shipping = ShippingModel(float(ship.get("base_per_shipment", 5)),
                             float(ship.get("per_km", 0.01)), zones)
    return weights, policy, shipping


def plan(ctx: Context, uow: UnitOfWork, ruleset: Ruleset, catalog: CatalogSnapshot,
         req: SourcingRequest, explain: bool = True,
         barred: Mapping[str, Collection[str]] | None = None,
         first_ring: int | None = None) -> Sourced:
    """The least-cost plan for a ship order under the ruleset's policy (`barred`: per SKU,
    locations that may not ship it, as those that rejected it when re-routing).

    Locations are read in rings of rising cost floor (domain `plan_in_rings`, its first ring
    of `first_ring` locations when given, else config's `sourcing.first_ring`): the plan is
    the one over every location, without reading the stock of those that cannot be in it. A
    location barred from every line is left out before the rings are cut (it could not be a
    candidate).
    """
    section = ctx.settings.section("sourcing")
    first_ring = first_ring or int(section["first_ring"])
    limits = Limits(float(section["max_plan_ms"]), highs.solve)
    limits = replace(limits, started=limits.clock())
    counts = backlog.open_lines(uow)
    weights, policy, shipping = policy_of(ctx.settings, ruleset)
    on_short = on_short_of(ruleset, req)
    policy = replace(policy, fallback=planner_fallback(on_short, policy.fallback))
    ship_to = req.ship_to or (0.0, 0.0)
    floors = site_table(catalog, ruleset, counts, weights).floors(
        ship_to, shipping, policy.shipment_penalty)
    reader = _CandidateReader(uow, ruleset, catalog, req, counts, barred)
    floors = floors.without(reader.barred_from_all())
    lines = [SourcingLine(line.sku, line.quantity) for line in req.lines]
    result = plan_in_rings(lines, req.ship_to, floors, reader, weights, policy, shipping,
                           explain, first_ring=first_ring, limits=limits)
    traces = _traces(ruleset, catalog, req, result) if explain else {}
    return Sourced(result, ruleset, traces, dict(reader.excluded), reader.seen, on_short)


def on_short_of(ruleset: Ruleset, req: SourcingRequest) -> str:
    """What the order does when short: as it asks, else as its ruleset's fallback does."""
    return req.on_short or default_on_short(ruleset.sourcing.split.fallback)


def plan_pickup(uow: UnitOfWork, ruleset: Ruleset, catalog: CatalogSnapshot,
                req: SourcingRequest) -> Sourced:
    """A pickup order: its store from its channel availability, or unfulfilled with why."""
    location = req.pickup_location or ""
    facts = catalog.locations[location]
    lines = [SourcingLine(line.sku, line.quantity) for line in req.lines]
    reason = None
    if not facts["active"] or not facts["can_pickup"]:
        reason = f"{location} does not offer pickup"
        stock: dict[str, int] = {}
        seen: dict[tuple[str, str], StockAt] = {}
    else:
        at_store = ats_at_locations(uow, ruleset, catalog, req.channel,
                              [ln.sku for ln in lines], [location])
        stock, seen = at_store.units.get(location, {}), at_store.seen
    short = [ln for ln in lines if stock.get(ln.sku, 0) < ln.quantity]
    explanation = {"pickup_location": location, "available_at_store": stock,
                   "reason": reason or ("not enough pickup stock" if short else None)}
    if short or reason:
        result = SourcingPlan((), tuple(lines), 0.0, "pickup:refused", explanation)
    else:
        shipment = Shipment(location, tuple(lines), 0.0, {"pickup": True})
        result = SourcingPlan((shipment,), (), 0.0, "pickup", explanation)
    return Sourced(result, ruleset, {}, {}, seen, on_short_of(ruleset, req))


def source(ctx: Context, uow: UnitOfWork, ruleset: Ruleset, catalog: CatalogSnapshot,
           req: SourcingRequest, explain: bool = True) -> Sourced:
    """The plan for a request: its store's stock for pickup, else the least-cost shipments;
    422 when the channel does not sell the order's delivery method. Without `explain`, a
    ship plan has no explanation and no rule traces (the same shipments and cost)."""
    method = "pickup" if req.delivery_method == "pickup" else "ship"
    if method not in ruleset.sells(req.channel):
        raise ValidationFailed(
            f"Channel {req.channel!r} does not sell {method} ({ruleset.ref}).",
            [problem("/attributes/delivery_method", f"channel {req.channel!r} sells "
                     f"{', '.join(ruleset.sells(req.channel))} only")])
    if req.delivery_method == "pickup":
        return plan_pickup(uow, ruleset, catalog, req)
    return plan(ctx, uow, ruleset, catalog, req, explain)


def to_dict(sourced: Sourced) -> dict[str, Any]:
    """The plan as the API returns it."""
    result = sourced.plan
    explanation = dict(result.explanation)
    explanation.update({"ruleset": sourced.ruleset.ref, "policy": result.policy_applied,
                        "rules_matched": {k: v for k, v in sourced.rules_by_location.items()
                                          if v},
                        "excluded_locations": sourced.excluded})
    return {
        "ruleset": sourced.ruleset.ref, "variant": None,
        "policy_applied": result.policy_applied, "on_short": sourced.on_short,
        "total_cost": round(result.total_cost, 4),
        "shipments": [{"location": s.location_id, "cost": round(s.cost, 4),
                       "factors": s.factors,
                       "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in s.lines]}
                      for s in result.shipments],
        "unfulfilled": [{"sku": ln.sku, "quantity": ln.quantity} for ln in result.unfulfilled],
        "explanation": explanation,
    }
