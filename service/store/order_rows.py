"""A new order as the plain rows its one insert writes (orders_pg or five Core statements)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.domain.orders import Order
from service.store.models import (
    Event,
    FulfilmentLineRow,
    FulfilmentRow,
    OrderLineRow,
    OrderRow,
    SettlementRecord,
)


@dataclass
class NewOrder:
    """A placed order as plain rows (fulfilment lines name their order line by line_no)."""

    order: dict[str, Any]
    lines: list[dict[str, Any]]
    fulfilments: list[dict[str, Any]]
    fulfilment_lines: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    settlements: list[dict[str, Any]] = field(default_factory=list)  # name lines by line_no


def new_order_rows(order: Order, response: dict[str, Any]) -> NewOrder:
    """The rows of a new order, its fulfilments, its events and its settlement records."""
    return NewOrder(
        order={"id": order.id, "created_at": order.created_at, "updated_at": order.updated_at,
               "status": order.status, "channel": order.channel, "order_ref": order.order_ref,
               "customer_id": order.customer_id, "delivery_method": order.delivery_method,
               "pickup_location_id": order.pickup_location, "ship_to": order.ship_to,
               "attributes": order.attributes, "ruleset": order.ruleset, "plan": order.plan,
               "explanation": order.explanation, "idempotency_key": order.idempotency_key,
               "request_hash": order.request_hash, "response": response,
               "on_short": order.on_short, "cancel_reason": order.cancel_reason,
               "experiment": order.experiment, "variant": order.variant},
        lines=[{"order_id": order.id, "line_no": ln.line_no, "sku": ln.sku,
                "quantity": ln.quantity, "unit_price": ln.unit_price,
                "quantity_backordered": ln.backordered, "quantity_cancelled": ln.cancelled}
               for ln in order.lines],
        fulfilments=[{"id": f.id, "order_id": order.id, "location_id": f.location_id,
                      "cost": f.cost, "factors": f.factors, "created_at": f.created_at,
                      "updated_at": f.updated_at} for f in order.fulfilments],
        fulfilment_lines=[{"fulfilment_id": f.id, "line_no": ln.line_no, "sku": ln.sku,
                           "quantity": ln.quantity, "quantity_shipped": 0,
                           "quantity_rejected": 0, "quantity_cancelled": 0}
                          for f in order.fulfilments for ln in f.lines],
        events=[{"aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id,
                 "type": e.type, "payload": e.payload, "created_at": e.at, "attempts": 0}
                for e in order.events],
        settlements=[{"kind": s.kind, "order_id": order.id, "line_no": s.line_no, "sku": s.sku,
                      "location_id": s.location_id, "quantity": s.quantity, "amount": s.amount,
                      "created_at": s.at} for s in order.settlements])


def check_children(new: NewOrder) -> None:
    """Raise ValueError unless every row under the order points at it: its lines and
    fulfilments name its id, each fulfilment line one of its fulfilments and line numbers,
    each settlement one of its line numbers (no foreign key checks these: migration 0032)."""
    order_id = new.order["id"]
    fulfilments = {f["id"] for f in new.fulfilments}
    line_nos = {ln["line_no"] for ln in new.lines}
    stray = ([f"line {ln['line_no']}" for ln in new.lines if ln["order_id"] != order_id]
             + [f"fulfilment {f['id']}" for f in new.fulfilments if f["order_id"] != order_id]
             + [f"fulfilment line of {row['fulfilment_id']} (line {row['line_no']})"
                for row in new.fulfilment_lines
                if row["fulfilment_id"] not in fulfilments or row["line_no"] not in line_nos]
             + [f"settlement of line {s['line_no']}" for s in new.settlements
                if s["line_no"] not in line_nos])
    if stray:
        raise ValueError(f"order {order_id}: rows that point at nothing: {', '.join(stray)}")


def insert_core(session: Session, new: NewOrder) -> None:
    """Up to six Core statements: order, lines (their ids by line number), fulfilments, their
    lines, events, settlement records; rows that would point at nothing are refused first."""
    check_children(new)
    connection = session.connection()
    connection.execute(insert(OrderRow.__table__), [new.order])
    table = OrderLineRow.__table__
    line_ids = dict(connection.execute(
        insert(table).returning(table.c.line_no, table.c.id, sort_by_parameter_order=True),
        new.lines).all())
    if new.fulfilments:
        connection.execute(insert(FulfilmentRow.__table__), new.fulfilments)
        rows = [{**{k: v for k, v in row.items() if k != "line_no"},
                 "order_line_id": line_ids[row["line_no"]]} for row in new.fulfilment_lines]
        connection.execute(insert(FulfilmentLineRow.__table__), rows)
    if new.events:
        connection.execute(insert(Event.__table__), new.events)
    if new.settlements:
        connection.execute(insert(SettlementRecord.__table__), [
            {**{k: v for k, v in row.items() if k != "line_no"},
             "order_line_id": line_ids[row["line_no"]]} for row in new.settlements])
