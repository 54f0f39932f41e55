"""An order's rows and its aggregate: the rows one order was read from, the aggregate built
from them (`OrderRows.order`), and what the aggregate changed copied back onto them
(`OrderRows.update_from`); a fulfilment row as the domain's `Fulfilment`."""

from __future__ import annotations

from typing import Any

from service.domain.orders import Fulfilment, FulfilmentLine, Order, OrderLine
from service.store.models import FulfilmentLineRow, FulfilmentRow, OrderLineRow, OrderRow


class OrderChildren:
    """An order's line, fulfilment and fulfilment-line rows."""

    def __init__(self, lines: list[OrderLineRow], fulfilments: list[FulfilmentRow],
                 fulfilment_lines: dict[str, list[FulfilmentLineRow]]) -> None:
        self.lines, self.fulfilments, self.fulfilment_lines = lines, fulfilments, fulfilment_lines


class OrderRows:
    """The rows one order was read from: to build the aggregate and to write it back."""

    def __init__(self, order: OrderRow, children: OrderChildren) -> None:
        self.row, self.children = order, children
        self.line_nos = {line.id: line.line_no for line in children.lines}

    def order(self, returned: dict[int, int]) -> Order:
        """The aggregate these rows hold (`returned`: units received back, by line id)."""
        r, c = self.row, self.children
        return Order(
            id=r.id, channel=r.channel, created_at=r.created_at, updated_at=r.updated_at,
            lines=[OrderLine(x.line_no, x.sku, x.quantity, x.unit_price, x.quantity_cancelled,
                             x.quantity_backordered, x.id, returned.get(x.id, 0))
                   for x in c.lines],
            fulfilments=[fulfilment_of(f, c.fulfilment_lines[f.id], self.line_nos)
                         for f in c.fulfilments],
            order_ref=r.order_ref, customer_id=r.customer_id,
            delivery_method=r.delivery_method, pickup_location=r.pickup_location_id,
            ship_to=r.ship_to or {}, attributes=r.attributes or {}, ruleset=r.ruleset,
            plan=r.plan or {}, explanation=r.explanation or {},
            idempotency_key=r.idempotency_key, request_hash=r.request_hash,
            on_short=r.on_short, cancel_reason=r.cancel_reason, experiment=r.experiment,
            variant=r.variant)

    def all_rows(self) -> list[Any]:
        """The order's row and every row under it, in the flush's table order."""
        c = self.children
        return [self.row, *c.lines, *c.fulfilments,
                *(line for f in c.fulfilments for line in c.fulfilment_lines[f.id])]

    def update_from(self, order: Order) -> None:
        """Copy what the aggregate may change onto its rows (the flush writes what moved)."""
        self.row.status, self.row.updated_at = order.status, order.updated_at
        self.row.cancel_reason = order.cancel_reason
        if order.explanation is not self.row.explanation:  # a change replaces it whole
            self.row.explanation = order.explanation
        if order.ship_to != self.row.ship_to:  # an edit's new address
            self.row.ship_to = dict(order.ship_to)
        by_no = {line.line_no: line for line in order.lines}
        for row in self.children.lines:
            line = by_no[row.line_no]
            row.quantity_cancelled, row.quantity_backordered = line.cancelled, line.backordered
            row.quantity = line.quantity
        rows = {f.id: f for f in self.children.fulfilments}
        for fulfilment in order.fulfilments:
            update_fulfilment(rows[fulfilment.id], fulfilment,
                               self.children.fulfilment_lines[fulfilment.id])


def fulfilment_of(row: FulfilmentRow, lines: list[FulfilmentLineRow],
                line_nos: dict[int, int]) -> Fulfilment:
    return Fulfilment(
        id=row.id, location_id=row.location_id, created_at=row.created_at,
        updated_at=row.updated_at, status=row.status, cost=row.cost, factors=row.factors or {},
        tracking=row.tracking, reason=row.reason, shipped_at=row.shipped_at,
        delivered_at=row.delivered_at,
        lines=[FulfilmentLine(line_nos[x.order_line_id], x.sku, x.quantity,
                              x.quantity_shipped, x.quantity_rejected, x.quantity_cancelled, x.id)
               for x in lines])


def update_fulfilment(row: FulfilmentRow, fulfilment: Fulfilment,
                       line_rows: list[FulfilmentLineRow]) -> None:
    row.status, row.updated_at = fulfilment.status, fulfilment.updated_at
    row.tracking, row.reason, row.shipped_at = (fulfilment.tracking, fulfilment.reason,
                                                fulfilment.shipped_at)
    row.delivered_at = fulfilment.delivered_at
    by_id = {line.id: line for line in fulfilment.lines}
    for line_row in line_rows:
        line = by_id[line_row.id]
        line_row.quantity_shipped = line.shipped
        line_row.quantity_rejected = line.rejected
        line_row.quantity_cancelled = line.cancelled
