"""Sourcing use case: candidates from the channel's sellable stock, rules, the planner."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, literal, select
from sqlalchemy.orm import Session

from service.context import Context
from service.domain.geo import haversine_km
from service.domain.sourcing import (
    Candidate,
    OrderLine,
    Shipment,
    ShippingModel,
    SourcingPlan,
    SplitPolicy,
    Weights,
    plan_sourcing,
)
from service.rules.evaluate import evaluate_sourcing
from service.rules.model import Ruleset
from service.rules.sql import channel_figures_sql
from service.services import backlog
from service.services.catalog import CatalogSnapshot
from service.services.channel_figures import rule_columns
from service.services.sourcing_request import SourcingRequest
from service.store.models import Location, Product, StockPosition


@dataclass(frozen=True)
class Sourced:
    """A plan and what it was made from."""

    plan: SourcingPlan
    ruleset: Ruleset
    rules_by_location: dict[str, list[dict[str, Any]]]
    excluded: dict[str, list[str]]


def sellable_stock(session: Session, ruleset: Ruleset, channel: str, skus: list[str],
                   location: str | None = None) -> dict[str, dict[str, int]]:
    """{location: {sku: units the channel may sell}} for active locations.

    Computed in SQL with the channel's compiled rules (the same figures the channel was shown).
    """
    params: dict[str, Any] = {"skus": list(skus)}
    if location is not None:
        params["location"] = location
    key = (ruleset.ref, ruleset.content_hash, channel, location is not None)
    query = _QUERIES.get(key)
    if query is None:
        query = _QUERIES[key] = _sellable_query(ruleset, channel, location is not None)
    rows = session.execute(query, params)
    stock: dict[str, dict[str, int]] = defaultdict(dict)
    for location_id, sku, units in rows.all():  # one fetch, not a round of fetchone per row
        stock[location_id][sku] = int(units)
    return stock


_QUERIES: dict[tuple[str, str, str, bool], Any] = {}  # rulesets are immutable: build once


def _sellable_query(ruleset: Ruleset, channel: str, one_location: bool) -> Any:
    """The statement for a ruleset and channel (skus are an expanding parameter)."""
    sp, loc, prod = StockPosition.__table__, Location.__table__, Product.__table__
    columns, available = rule_columns()
    columns = {**columns, "channel": literal(channel)}
    hold, excluded = channel_figures_sql(ruleset, channel, columns, available)
    net = available - hold
    query = (select(sp.c.location_id, sp.c.sku, net)
             .select_from(sp.join(prod, prod.c.sku == sp.c.sku)
                          .join(loc, loc.c.id == sp.c.location_id))
             .where(sp.c.sku.in_(bindparam("skus", expanding=True)), loc.c.active,
                    and_(~excluded, net > 0)))
    if one_location:
        query = query.where(sp.c.location_id == bindparam("location"))
    return query


def _candidates(session: Session, ruleset: Ruleset, catalog: CatalogSnapshot,
                req: SourcingRequest) -> tuple[list[Candidate], dict[str, list[str]]]:
    stock = sellable_stock(session, ruleset, req.channel, [line.sku for line in req.lines])
    counts = backlog.open_lines(session)
    order = req.order_facts()
    lat, lon = req.ship_to or (0.0, 0.0)
    found, excluded = [], defaultdict(list)
    for location_id, available in stock.items():
        facts = catalog.locations[location_id]
        if not facts["can_ship"]:
            continue
        distance = haversine_km(lat, lon, facts["lat"], facts["lon"])
        ratio = backlog.ratio(counts.get(location_id, 0), facts["daily_capacity"])
        rule_facts = {**facts, **order, "distance_km": distance, "backlog_ratio": ratio}
        outcome = evaluate_sourcing(ruleset, rule_facts)
        if outcome.excluded:
            excluded["excluded_by_rule"].append(location_id)
            continue
        found.append(Candidate(location_id, facts["lat"], facts["lon"], available, ratio,
                               facts["processing_hours"], facts["priority"],
                               outcome.cost_adjustment, outcome.matched))
    return found, dict(excluded)


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


def policy_of(ctx: Context, ruleset: Ruleset) -> tuple[Weights, SplitPolicy, ShippingModel]:
    """The ruleset's weights and split policy, and config's shipping-cost model."""
    w, split = ruleset.sourcing.weights, ruleset.sourcing.split
    weights = Weights(**{k: float(w.get(k, 0)) for k in (
        "distance_km", "backlog_ratio", "processing_hours", "shipping_cost", "priority")})
    policy = SplitPolicy(split.mode, split.max_shipments, float(split.shipment_penalty),
                         split.fallback)
    ship = ctx.settings.section("sourcing").get("shipping", {})
    zones = tuple((z["max_km"], z["cost"]) for z in ship.get("zones", []))
    shipping = ShippingModel(float(ship.get("base_per_shipment", 5)),
                             float(ship.get("per_km", 0.01)), zones)
    return weights, policy, shipping


def plan(ctx: Context, session: Session, ruleset: Ruleset, catalog: CatalogSnapshot,
         req: SourcingRequest, explain: bool = True) -> Sourced:
    """The least-cost plan for a ship order under the ruleset's policy."""
    candidates, excluded = _candidates(session, ruleset, catalog, req)
    weights, policy, shipping = policy_of(ctx, ruleset)
    lines = [OrderLine(line.sku, line.quantity) for line in req.lines]
    result = plan_sourcing(lines, req.ship_to, candidates, weights, policy, shipping, explain)
    return Sourced(result, ruleset, _traces(ruleset, catalog, req, result), excluded)


def plan_pickup(session: Session, ruleset: Ruleset, catalog: CatalogSnapshot,
                req: SourcingRequest) -> Sourced:
    """A pickup order: its store from its channel availability, or unfulfilled with why."""
    location = req.pickup_location or ""
    facts = catalog.locations[location]
    lines = [OrderLine(line.sku, line.quantity) for line in req.lines]
    reason = None
    if not facts["active"] or not facts["can_pickup"]:
        reason = f"{location} does not offer pickup"
        stock: dict[str, int] = {}
    else:
        stock = sellable_stock(session, ruleset, req.channel, [ln.sku for ln in lines],
                               location).get(location, {})
    short = [ln for ln in lines if stock.get(ln.sku, 0) < ln.quantity]
    explanation = {"pickup_location": location, "available_at_store": stock,
                   "reason": reason or ("not enough pickup stock" if short else None)}
    if short or reason:
        result = SourcingPlan((), tuple(lines), 0.0, "pickup:refused", explanation)
    else:
        shipment = Shipment(location, tuple(lines), 0.0, {"pickup": True})
        result = SourcingPlan((shipment,), (), 0.0, "pickup", explanation)
    return Sourced(result, ruleset, {}, {})


def to_dict(sourced: Sourced, variant: str | None = None) -> dict[str, Any]:
    """The plan as the API returns it."""
    result = sourced.plan
    explanation = dict(result.explanation)
    explanation.update({"ruleset": sourced.ruleset.ref, "policy": result.policy_applied,
                        "rules_matched": {k: v for k, v in sourced.rules_by_location.items()
                                          if v},
                        "excluded_locations": sourced.excluded})
    return {
        "ruleset": sourced.ruleset.ref, "variant": variant,
        "policy_applied": result.policy_applied, "total_cost": round(result.total_cost, 4),
        "shipments": [{"location": s.location_id, "cost": round(s.cost, 4),
                       "factors": s.factors,
                       "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in s.lines]}
                      for s in result.shipments],
        "unfulfilled": [{"sku": ln.sku, "quantity": ln.quantity} for ln in result.unfulfilled],
        "explanation": explanation,
    }
