"""Releasing backordered units: stock arrived, some of what an order waits for is planned.

The planned shipments become new fulfilments of the order (as a re-route's do), each line's
backordered count goes down by the units planned for it, and what is still short keeps
waiting. The decision (what was planned, from where, why) joins the order's explanation
under `releases`; subscribers hear a `fulfilment.requested` per new fulfilment,
`order.allocated`, `order.released` and, when the status moved, `order.status_changed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.domain import events as names
from service.errors import Conflict

from . import announcing as announce
from .model import PlannedShipment, line_numbers, new_fulfilment

if TYPE_CHECKING:
    from .order import Order


def backordered_units(order: Order) -> dict[int, int]:
    """Units waiting per line_no."""
    return {line.line_no: line.backordered for line in order.lines if line.backordered > 0}


def release_backorder(order: Order, shipments: Iterable[PlannedShipment], at: datetime,
                      decision: dict[str, Any]) -> dict[str, int]:
    """Add the planned shipments of backordered units to the order; the units released by SKU.

    A shipment may carry no more of a line than is backordered (Conflict otherwise: the plan
    was made for another order state)."""
    shipments = list(shipments)
    if not shipments:
        return {}
    before = order.status
    line_nos = line_numbers(order.lines)
    by_sku = {line.sku: line for line in order.lines}
    released: dict[str, int] = {}
    for shipment in shipments:
        for sku, quantity in shipment.lines:
            released[sku] = released.get(sku, 0) + quantity
    for sku, quantity in released.items():
        line = by_sku.get(sku)
        if line is None or quantity > line.backordered:
            raise Conflict(f"Order {order.id}: {quantity} of {sku} planned, "
                           f"{line.backordered if line else 0} backordered.")
    for sku, quantity in released.items():
        by_sku[sku].backordered -= quantity
    new = [new_fulfilment(s, line_nos, at) for s in shipments]
    order.fulfilments.extend(new)
    order.explanation = {**order.explanation,
                         "releases": [*order.explanation.get("releases", []), decision]}
    order.events += announce.requested(order, new, announce.RELEASED, at)
    order.events.append(announce.order_event(
        order, names.ORDER_RELEASED, at, previous_status=before,
        lines=announce.lines(sorted(released.items())),
        still_backordered=announce.lines((ln.sku, ln.backordered) for ln in order.lines),
        fulfilments=[{"fulfilment_id": f.id, "location": f.location_id} for f in new]))
    order.events += announce.status_changed(order, at)
    order.updated_at = at
    return released
