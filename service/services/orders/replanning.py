"""A new ship-to that changes where an order's unpicked units should come from.

The units on fulfilments still `created` or `accepted` are planned again for the new address
(the order's ruleset version, split policy within max_shipments not counting those
fulfilments, the channel's availability, no location that rejected the line), their
allocation given back first. When the plan puts every unit where it already is, nothing
moves (the fulfilments and their locations' accepted work stay); otherwise those fulfilments
are cancelled (reason `ship_to changed`) and the plan's become the order's. What no location
can ship now waits as backordered if the order backorders, else the edit is refused (409).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.domain.ids import new_id
from service.domain.orders import Order, PlannedShipment, Units, default_on_short
from service.domain.orders.editing import MOVABLE, move_units
from service.errors import InsufficientStock, problem
from service.services.orders import sourcing
from service.services.orders.allocation import allocate
from service.services.orders.cancelling import release_allocation
from service.services.orders.rerouting import (
    order_ruleset,
    planned,
    rerouted_request,
    within_budget,
)
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def replan_for_ship_to(ctx: Context, uow: UnitOfWork, order: Order, at: datetime
                       ) -> dict[str, Any]:
    """Re-plan the order's unpicked units for its (new) ship-to; the decision."""
    units, held = _unpicked(order)
    if not units or order.delivery_method == "pickup":
        return {"replanned": False, "why": "nothing unpicked to move" if not units
                else "a pickup order is collected at its store"}
    release_allocation(ctx, uow, held)
    active = ctx.rules.active(uow)
    staying = dataclasses.replace(order, fulfilments=[
        f for f in order.fulfilments if f.status not in MOVABLE])
    ruleset = within_budget(staying, active if order.ruleset == active.ref
                            else order_ruleset(ctx, uow, order))
    req = rerouted_request(order, units, "backorder")
    sourced = sourcing.plan(ctx, uow, ruleset, uow.catalog(), req,
                            barred={ln.sku: order.rejected_by(ln.line_no) for ln in req.lines})
    allocate(uow, sourced, order.channel, {}, kept_by=active)
    wanted = {(s.location_id, ln.sku): ln.quantity
              for s in sourced.plan.shipments for ln in s.lines}
    if wanted == held:
        return {"replanned": False, "why": "the same locations serve the new ship-to"}
    short = {ln.sku: ln.quantity for ln in sourced.plan.unfulfilled}
    on_short = order.on_short or default_on_short(ruleset.sourcing.split.fallback)
    if short and on_short != "backorder":
        raise InsufficientStock("No location can ship every unpicked unit to the new ship-to;"
                                " nothing changed.", [problem(
                                    "/ship_to", f"{sku} short by {q} (on_short: {on_short})",
                                    sku=sku, short=q) for sku, q in sorted(short.items())])
    shipments = [PlannedShipment(new_id(), s.location_id, s.cost, s.factors,
                                 tuple((ln.sku, ln.quantity) for ln in s.lines))
                 for s in sourced.plan.shipments]
    move_units(order, shipments, short, at)
    return {"replanned": True, **planned(sourced, shipments)}


def _unpicked(order: Order) -> tuple[dict[int, int], Units]:
    """Open units on created/accepted fulfilments: per line_no, and per (location, sku)."""
    units: dict[int, int] = {}
    held: Units = {}
    for f in order.fulfilments:
        if f.status not in MOVABLE:
            continue
        for row in f.lines:
            if row.open > 0:
                units[row.line_no] = units.get(row.line_no, 0) + row.open
                key = (f.location_id, row.sku)
                held[key] = held.get(key, 0) + row.open
    return units, held
