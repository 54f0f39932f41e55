"""Reading orders with their lines and fulfilments, and writing new ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.store import orders_pg
from service.store.models import Event, Fulfilment, FulfilmentLine, Order, OrderLine


@dataclass
class OrderAggregate:
    order: Order
    lines: list[OrderLine]
    fulfilments: list[Fulfilment]
    fulfilment_lines: dict[str, list[FulfilmentLine]]


def load(session: Session, order_id: str, lock: bool = False) -> OrderAggregate | None:
    """The order and everything under it (the order row locked when asked).

    Under the lock every row is read afresh, even one the session read before it: another
    writer may have changed it while this one waited.
    """
    fresh = {"populate_existing": True} if lock else {}
    query = select(Order).where(Order.id == order_id).execution_options(**fresh)
    if lock:
        query = query.with_for_update()
    order = session.scalars(query).first()
    if order is None:
        return None
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                 .order_by(OrderLine.line_no).execution_options(**fresh)))
    fulfilments = list(session.scalars(select(Fulfilment).where(Fulfilment.order_id == order_id)
                                       .order_by(Fulfilment.created_at, Fulfilment.id)
                                       .execution_options(**fresh)))
    by_fulfilment: dict[str, list[FulfilmentLine]] = {f.id: [] for f in fulfilments}
    if fulfilments:
        rows = session.scalars(select(FulfilmentLine).where(
            FulfilmentLine.fulfilment_id.in_(list(by_fulfilment))).order_by(FulfilmentLine.id)
            .execution_options(**fresh))
        for row in rows:
            by_fulfilment[row.fulfilment_id].append(row)
    return OrderAggregate(order, lines, fulfilments, by_fulfilment)


def find_by_key(session: Session, channel: str, key: str) -> Order | None:
    """The order placed earlier with this Idempotency-Key on this channel."""
    return session.scalars(select(Order).where(Order.channel == channel,
                                               Order.idempotency_key == key)).first()


@dataclass
class NewOrder:
    """A placed order as plain rows (fulfilment lines name their order line by line_no)."""

    order: dict[str, Any]
    lines: list[dict[str, Any]]
    fulfilments: list[dict[str, Any]]
    fulfilment_lines: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)


def insert_order(session: Session, new: NewOrder) -> None:
    """Write an order, its lines, fulfilments, fulfilment lines and outbox events.

    One statement on PostgreSQL (`orders_pg`); five Core statements elsewhere. Never the unit
    of work: this is the write path of every order.
    """
    if session.get_bind().dialect.name == "postgresql":
        orders_pg.insert_order(session, new)
        return
    connection = session.connection()
    connection.execute(insert(Order.__table__), [new.order])
    line_ids = dict(connection.execute(
        insert(OrderLine.__table__).returning(OrderLine.__table__.c.line_no,
                                               OrderLine.__table__.c.id,
                                               sort_by_parameter_order=True),
        new.lines).all())
    if new.fulfilments:
        connection.execute(insert(Fulfilment.__table__), new.fulfilments)
        rows = [{**{k: v for k, v in row.items() if k != "line_no"},
                 "order_line_id": line_ids[row["line_no"]]} for row in new.fulfilment_lines]
        connection.execute(insert(FulfilmentLine.__table__), rows)
    if new.events:
        connection.execute(insert(Event.__table__), new.events)
