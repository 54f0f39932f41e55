"""Re-routing rejected units: re-sourced with the order's ruleset, never back to a rejecter.

The rejected units are planned as a request of their own (the order's channel, ship-to and
attributes; the ruleset version the order was placed with, its split policy and the channel's
promise; its max_shipments less the order's other shipments), with every location that
rejected a line barred from that line. The plan's units
are allocated in the caller's transaction (a conflict raises StockTaken: the caller retries
on fresh stock); what it leaves short is backordered or cancelled as the order's on_short says.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from service.domain.ids import new_id
from service.domain.orders import (
    Fulfilment,
    Order,
    PlannedShipment,
    Units,
    default_on_short,
    shipments_left,
)
from service.errors import NotFound
from service.rules.model import Ruleset
from service.services.orders import sourcing
from service.services.orders.allocation import allocate
from service.services.orders.cancelling import release_allocation
from service.services.orders.requests import RequestLine, SourcingRequest
from service.services.orders.sourcing import Sourced
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
# The first ring of a re-route's plan: 16 locations (a new order's is config's first_ring).
# 32 (chosen when a second ring cost a second full read) costs more than the rings it saves: in
# bench_reroute.py's alternated rounds (2026-12-07, bench/changes.md) a re-route's median was
# 12.4 / 15.6 ms with 16 against 14.6 / 18.2 ms with 32 and 15.1 / 17.4 ms with 24.
FIRST_RING = 16


def reroute(ctx: Context, uow: UnitOfWork, order: Order, source: Fulfilment,
            units: dict[int, int], released: Units, event: str | None = None,
            save: bool = False) -> None:
    """Re-source `units` (per line_no) rejected on `source`, and add the result to the order;
    the `released` units leave their location's allocation in the same pass as the new ones
    are allocated (one statement on PostgreSQL when nothing changed since the plan read it).
    With `save`, the order is saved too (by that same statement when it can be): nothing
    may change it after."""
    active = ctx.rules.active(uow)  # the kept ATS is this one's: allocation moves it by it
    ruleset = within_budget(order, active if order.ruleset == active.ref
                             else order_ruleset(ctx, uow, order))
    on_short = order.on_short or default_on_short(ruleset.sourcing.split.fallback)
    req = rerouted_request(order, {n: q for n, q in units.items() if q > 0}, on_short)
    barred = {line.sku: order.rejected_by(line.line_no) for line in req.lines}
    now = ctx.clock.now()
    sourced = None
    if order.delivery_method == "pickup":  # the customer comes to that store: nowhere else
        shipments, short, decision = [], {ln.sku: ln.quantity for ln in req.lines}, {
            "policy": "pickup", "reason": "a pickup order is collected at its store only"}
        release_allocation(ctx, uow, released)
    else:
        sourced = sourcing.plan(ctx, uow, ruleset, uow.catalog(), req, barred=barred,
                                first_ring=FIRST_RING)
        shipments = [PlannedShipment(new_id(), s.location_id, s.cost, s.factors,
                                     tuple((ln.sku, ln.quantity) for ln in s.lines))
                     for s in sourced.plan.shipments]
        short = {ln.sku: ln.quantity for ln in sourced.plan.unfulfilled}
        decision = planned(sourced, shipments)
    decision = {"at": now.isoformat(), "event": event, "fulfilment": source.id,
                "rejected_by": source.location_id, "reason": source.reason,
                "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in req.lines],
                "barred": {sku: sorted(locs) for sku, locs in barred.items()},
                "ruleset": ruleset.ref, "on_short": on_short,
                "max_shipments": ruleset.sourcing.split.max_shipments, **decision}
    order.reroute(source, shipments, short, on_short, now, decision)
    if sourced is not None:  # the aggregate is complete: its save may join the allocation
        allocate(uow, sourced, order.channel, {}, release=released, kept_by=active,
                 save=order if save else None)


def order_ruleset(ctx: Context, uow: UnitOfWork, order: Order) -> Ruleset:
    """The ruleset version the order was placed with (the active one if it is not loaded)."""
    try:
        return ctx.rules.resolve(uow, order.ruleset)
    except NotFound:
        log.warning("order %s: ruleset %r is not loaded; re-routing with the active one",
                    order.id, order.ruleset)
        return ctx.rules.active(uow)


def within_budget(order: Order, ruleset: Ruleset) -> Ruleset:
    """The ruleset with its split policy's max_shipments lowered by the order's shipments
    (the order as a whole keeps to it; a re-route may always add one)."""
    split = ruleset.sourcing.split
    left = shipments_left(order.fulfilments, split.max_shipments)
    if left == split.max_shipments:
        return ruleset
    sourcing_policy = dataclasses.replace(ruleset.sourcing,
                                          split=dataclasses.replace(split, max_shipments=left))
    return dataclasses.replace(ruleset, sourcing=sourcing_policy)


def rerouted_request(order: Order, units: dict[int, int], on_short: str) -> SourcingRequest:
    """The rejected units as a sourcing request of the order's channel, ship-to, attributes."""
    lines = tuple(RequestLine(line.line_no, line.sku, units[line.line_no], line.unit_price)
                  for line in order.lines if line.line_no in units)
    attributes = dict(order.attributes)
    attributes.setdefault("order_value", float(sum(ln.unit_price * ln.quantity
                                                   for ln in order.lines)))
    ship_to = order.ship_to
    located = (float(ship_to["lat"]), float(ship_to["lon"])) if "lat" in ship_to else None
    return SourcingRequest(
        channel=order.channel, lines=lines, ship_to=located,
        delivery_method=order.delivery_method, pickup_location=order.pickup_location,
        attributes=attributes, order_ref=order.order_ref, customer_id=order.customer_id,
        address=dict(ship_to), on_short=on_short)


def planned(sourced: Sourced, shipments: list[PlannedShipment]) -> dict[str, Any]:
    """Why the plan chose its locations: the new fulfilments, the policy, the explanation."""
    plan = sourcing.to_dict(sourced)
    return {"policy_applied": plan["policy_applied"],
            "shipments": [{"fulfilment": new.fulfilment_id, **shown}
                          for new, shown in zip(shipments, plan["shipments"], strict=True)],
            "unfulfilled": plan["unfulfilled"], "explanation": plan["explanation"]}
