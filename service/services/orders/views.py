"""The API's JSON of an order and of a fulfilment: one serialiser each, used everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.domain.orders import Fulfilment, Order


def order_view(order: Order) -> dict[str, Any]:
    """The order, its lines and fulfilments, as the API returns them."""
    allocated: dict[int, int] = {}
    for fulfilment in order.fulfilments:
        for row in fulfilment.lines:
            allocated[row.line_no] = allocated.get(row.line_no, 0) + (
                row.quantity - row.cancelled - row.rejected)
    return {
        "id": order.id, "channel": order.channel, "status": order.status,
        "order_ref": order.order_ref, "customer_id": order.customer_id,
        "delivery_method": order.delivery_method, "pickup_location": order.pickup_location,
        "ship_to": order.ship_to or None, "on_short": order.on_short,
        "cancel_reason": order.cancel_reason,
        "ruleset": order.ruleset, "experiment": order.experiment, "variant": order.variant,
        "created_at": order.created_at.isoformat(),
        "lines": [{"line_no": ln.line_no, "sku": ln.sku, "quantity": ln.quantity,
                   "unit_price": float(ln.unit_price), "allocated": allocated.get(ln.line_no, 0),
                   "backordered": ln.backordered, "cancelled": ln.cancelled,
                   "returned": ln.returned}
                  for ln in order.lines],
        "fulfilments": [_channel_fulfilment(f) for f in order.fulfilments],
    }


def _channel_fulfilment(f: Fulfilment) -> dict[str, Any]:
    """A fulfilment as its order's channel sees it: where it is, and how it travels."""
    return {"id": f.id, "location": f.location_id, "status": f.status, "cost": f.cost,
            "tracking": f.tracking, "shipped_at": _time(f.shipped_at),
            "delivered_at": _time(f.delivered_at), "reason": f.reason,
            "lines": [{"sku": r.sku, "quantity": r.quantity, "shipped": r.shipped,
                       "cancelled": r.cancelled, "rejected": r.rejected} for r in f.lines]}


def fulfilment_view(order_id: str, fulfilment: Fulfilment, ship_to: dict[str, Any],
                    order_status: str | None = None) -> dict[str, Any]:
    """A fulfilment as the API returns it to its location: where it goes (the order's
    ship-to, None for a pickup), and the order's status after an event."""
    out = {
        "id": fulfilment.id, "order_id": order_id, "location": fulfilment.location_id,
        "status": fulfilment.status, "ship_to": ship_to or None,
        "tracking": fulfilment.tracking, "reason": fulfilment.reason,
        "shipped_at": _time(fulfilment.shipped_at),
        "delivered_at": _time(fulfilment.delivered_at),
        "created_at": fulfilment.created_at.isoformat(),
        "updated_at": _time(fulfilment.updated_at),
        "lines": [{"sku": r.sku, "quantity": r.quantity, "shipped": r.shipped,
                   "cancelled": r.cancelled, "rejected": r.rejected, "open": r.open}
                  for r in fulfilment.lines],
    }
    if order_status is not None:
        out["order_status"] = order_status
    return out


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
