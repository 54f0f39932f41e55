"""An order's rows and its aggregate: the rows one order was read from, as plain dicts by
column (`order_reads`), the aggregate built from them (`OrderRows.order`), and what the
aggregate changed (`OrderRows.changes`: the rows to write, the dicts then as written); a
fulfilment row as the domain's `Fulfilment`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.domain.orders import DomainEvent, Fulfilment, FulfilmentLine, Order, OrderLine
from service.store.fulfilment_rows import NewFulfilments

Row = dict[str, Any]
# (table, the row's values by column once changed, the columns changed)
Change = tuple[str, Row, set[str]]


class OrderChildren:
    """An order's line, fulfilment and fulfilment-line rows."""

    def __init__(self, lines: list[Row], fulfilments: list[Row],
                 fulfilment_lines: dict[str, list[Row]]) -> None:
        self.lines, self.fulfilments, self.fulfilment_lines = lines, fulfilments, fulfilment_lines


class OrderRows:
    """The rows one order was read from: to build the aggregate and to write it back."""

    def __init__(self, order: Row, children: OrderChildren) -> None:
        self.row, self.children = order, children
        self.line_nos = {line["id"]: line["line_no"] for line in children.lines}

    def order(self, returned: dict[int, int]) -> Order:
        """The aggregate these rows hold (`returned`: units received back, by line id)."""
        r, c = self.row, self.children
        return Order(
            id=r["id"], channel=r["channel"], created_at=r["created_at"],
            updated_at=r["updated_at"],
            lines=[OrderLine(x["line_no"], x["sku"], x["quantity"], x["unit_price"],
                             x["quantity_cancelled"], x["quantity_backordered"], x["id"],
                             returned.get(x["id"], 0))
                   for x in c.lines],
            fulfilments=[fulfilment_of(f, c.fulfilment_lines[f["id"]], self.line_nos)
                         for f in c.fulfilments],
            order_ref=r["order_ref"], customer_id=r["customer_id"],
            delivery_method=r["delivery_method"], pickup_location=r["pickup_location_id"],
            ship_to=r["ship_to"] or {}, attributes=r["attributes"] or {},
            ruleset=r["ruleset"], plan=r["plan"] or {}, explanation=r["explanation"] or {},
            idempotency_key=r["idempotency_key"], request_hash=r["request_hash"],
            on_short=r["on_short"], cancel_reason=r["cancel_reason"],
            experiment=r["experiment"], variant=r["variant"])

    def changes(self, order: Order) -> list[Change]:
        """The rows the aggregate changed (the columns it may change: status and times,
        quantities, the explanation and ship-to), each dict updated to its new values (its
        fulfilments not read or written yet are new: inserted, not changed)."""
        out: list[Change] = []
        row = self.row
        _changed(out, "orders", row, {
            "status": order.status, "updated_at": order.updated_at,
            "cancel_reason": order.cancel_reason, "explanation": order.explanation,
            "ship_to": order.ship_to})
        by_no = {line.line_no: line for line in order.lines}
        for line_row in self.children.lines:
            line = by_no[line_row["line_no"]]
            _changed(out, "order_lines", line_row, {
                "quantity": line.quantity, "quantity_cancelled": line.cancelled,
                "quantity_backordered": line.backordered})
        rows = {f["id"]: f for f in self.children.fulfilments}
        for fulfilment in order.fulfilments:
            if fulfilment.id not in rows:  # a new one: inserted, not updated
                continue
            _fulfilment_changes(out, rows[fulfilment.id], fulfilment,
                                self.children.fulfilment_lines[fulfilment.id])
        return out


def _changed(out: list[Change], table: str, row: Row, values: Mapping[str, Any]) -> None:
    """Note the columns of `row` whose value moved, and set them on it (a JSON value as a
    copy of its top level: the aggregate may change its own later)."""
    moved = {column for column, value in values.items()
             if value is not row[column] and value != row[column]}
    if moved:
        row.update({column: dict(values[column]) if isinstance(values[column], dict)
                    else values[column] for column in moved})
        out.append((table, row, moved))


def _fulfilment_changes(out: list[Change], row: Row, fulfilment: Fulfilment,
                        line_rows: list[Row]) -> None:
    _changed(out, "fulfilments", row, {
        "status": fulfilment.status, "updated_at": fulfilment.updated_at,
        "tracking": fulfilment.tracking, "reason": fulfilment.reason,
        "shipped_at": fulfilment.shipped_at, "delivered_at": fulfilment.delivered_at})
    by_id = {line.id: line for line in fulfilment.lines}
    for line_row in line_rows:
        line = by_id[line_row["id"]]
        _changed(out, "fulfilment_lines", line_row, {
            "quantity_shipped": line.shipped, "quantity_rejected": line.rejected,
            "quantity_cancelled": line.cancelled})


def fulfilment_of(row: Mapping[str, Any], lines: list[Mapping[str, Any]],
                  line_nos: dict[int, int]) -> Fulfilment:
    return Fulfilment(
        id=row["id"], location_id=row["location_id"], created_at=row["created_at"],
        updated_at=row["updated_at"], status=row["status"], cost=row["cost"],
        factors=row["factors"] or {}, tracking=row["tracking"], reason=row["reason"],
        shipped_at=row["shipped_at"], delivered_at=row["delivered_at"],
        lines=[FulfilmentLine(line_nos[x["order_line_id"]], x["sku"], x["quantity"],
                              x["quantity_shipped"], x["quantity_rejected"],
                              x["quantity_cancelled"], x["id"])
               for x in lines])


@dataclass(frozen=True)
class OrderSave:
    """What saving an order writes: the rows it changed, the fulfilments it gained, its new
    events and settlement records (rows naming their order line by storage id), and the
    open lines it moved per location (the kept backlog's deltas, none zero)."""

    order: Order
    changed: list[Change]
    new: NewFulfilments
    events: list[DomainEvent]
    settlements: list[Row]
    backlog: dict[str, int]
