"""The outbox events of an order's changes, as the event catalogue names and shapes them.

Every payload carries `order_id` and `channel`; a fulfilment's also `fulfilment_id` and its
`location`, so a subscriber can filter by channel or location and keep each order in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.domain import events as names

from .model import DomainEvent, Fulfilment

if TYPE_CHECKING:
    from .order import Order

PLACED, REROUTED, RELEASED, EDITED = "placed", "rerouted", "released", "edited"  # causes


def lines(units: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """[{sku, quantity}] of (sku, quantity) pairs with units."""
    return [{"sku": sku, "quantity": q} for sku, q in units if q]


def order_event(order: Order, type_: str, at: datetime, /, **data: Any) -> DomainEvent:
    """An event about the order itself."""
    return DomainEvent("order", order.id, type_, {
        "order_id": order.id, "channel": order.channel, "status": order.status, **data}, at)


def fulfilment_event(order: Order, fulfilment: Fulfilment, type_: str, at: datetime, /,
                     **data: Any) -> DomainEvent:
    """An event about one of the order's fulfilments (its location's work)."""
    return DomainEvent("fulfilment", fulfilment.id, type_, {
        "order_id": order.id, "fulfilment_id": fulfilment.id, "channel": order.channel,
        "location": fulfilment.location_id, "status": fulfilment.status, **data}, at)


def live_lines(fulfilment: Fulfilment) -> list[dict[str, Any]]:
    """The fulfilment's units neither rejected nor cancelled, per SKU."""
    return lines((row.sku, row.quantity - row.rejected - row.cancelled)
                 for row in fulfilment.lines)


def requested(order: Order, new: list[Fulfilment], cause: str, at: datetime,
              **extra: Any) -> list[DomainEvent]:
    """A `fulfilment.requested` per new fulfilment, then the order's `order.allocated`."""
    if not new:
        return []
    asked = [fulfilment_event(order, f, names.FULFILMENT_REQUESTED, at, cause=cause,
                              lines=live_lines(f), **extra) for f in new]
    total: dict[str, int] = {}
    for f in new:
        for row in f.lines:
            total[row.sku] = total.get(row.sku, 0) + row.quantity
    return [*asked, order_event(order, names.ORDER_ALLOCATED, at, cause=cause,
                                lines=lines(sorted(total.items())),
                                fulfilments=[{"fulfilment_id": f.id, "location": f.location_id,
                                              "lines": live_lines(f)} for f in new])]


def backordered(order: Order, units: Mapping[str, int], cause: str, at: datetime
                ) -> list[DomainEvent]:
    """`order.backordered` for units newly waiting for stock (none: no event)."""
    waiting = lines(sorted(units.items()))
    if not waiting:
        return []
    return [order_event(order, names.ORDER_BACKORDERED, at, cause=cause, lines=waiting,
                        backordered=lines((ln.sku, ln.backordered) for ln in order.lines))]


def cancelled(order: Order, units: Mapping[int, int], reason: str | None, at: datetime
              ) -> DomainEvent:
    """`order.cancelled` when nothing is left, else `order.lines_cancelled` (units by line_no)."""
    type_ = names.ORDER_CANCELLED if order.status == "cancelled" else names.ORDER_LINES_CANCELLED
    by_no = {line.line_no: line for line in order.lines}
    return order_event(order, type_, at, reason=reason, lines=[  # in the order asked
        {"line_id": by_no[n].id, "sku": by_no[n].sku, "quantity": q}
        for n, q in units.items() if q])


def status_changed(order: Order, at: datetime) -> list[DomainEvent]:
    """`order.status_changed` when the status differs from the one last announced."""
    before, now = order.announced_status, order.status
    if before == now:
        return []
    order.announced_status = now
    return [order_event(order, names.ORDER_STATUS_CHANGED, at, previous_status=before)]
