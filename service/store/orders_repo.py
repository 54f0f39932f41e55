"""Reading orders with their lines and fulfilments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.models import Fulfilment, FulfilmentLine, Order, OrderLine


@dataclass
class OrderAggregate:
    order: Order
    lines: list[OrderLine]
    fulfilments: list[Fulfilment]
    fulfilment_lines: dict[str, list[FulfilmentLine]]


def load(session: Session, order_id: str, lock: bool = False) -> OrderAggregate | None:
    """The order and everything under it (the order row locked when asked)."""
    query = select(Order).where(Order.id == order_id)
    if lock:
        query = query.with_for_update()
    order = session.scalars(query).first()
    if order is None:
        return None
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                 .order_by(OrderLine.line_no)))
    fulfilments = list(session.scalars(select(Fulfilment).where(Fulfilment.order_id == order_id)
                                       .order_by(Fulfilment.created_at, Fulfilment.id)))
    by_fulfilment: dict[str, list[FulfilmentLine]] = {f.id: [] for f in fulfilments}
    if fulfilments:
        rows = session.scalars(select(FulfilmentLine).where(
            FulfilmentLine.fulfilment_id.in_(list(by_fulfilment))).order_by(FulfilmentLine.id))
        for row in rows:
            by_fulfilment[row.fulfilment_id].append(row)
    return OrderAggregate(order, lines, fulfilments, by_fulfilment)


def find_by_key(session: Session, channel: str, key: str) -> Order | None:
    """The order placed earlier with this Idempotency-Key on this channel."""
    return session.scalars(select(Order).where(Order.channel == channel,
                                               Order.idempotency_key == key)).first()
