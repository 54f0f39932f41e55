"""What a replay reads (never writes): the orders to replay, the positions and journal of
their SKUs, and when fulfilments opened and closed (the backlog as it was)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.domain.orders import OPEN_FULFILMENT
from service.store.models import (
    FulfilmentLineRow,
    FulfilmentRow,
    InventoryJournalEntry,
    OrderLineRow,
    OrderRow,
    StockPosition,
)
from service.store.models.base import naive_utc


@dataclass(frozen=True)
class JournalRow:
    """One journaled change: when, where, why, and by how much (after - before)."""

    id: int
    at: datetime
    location_id: str
    sku: str
    cause: str
    refs: dict[str, object]
    on_hand: int
    allocated: int
    reserved: int


@dataclass(frozen=True)
class FulfilmentSpan:
    """A fulfilment's open lines at a location from `opened` until `closed` (None: open)."""

    order_id: str
    location_id: str
    lines: int
    opened: datetime
    closed: datetime | None


@dataclass(frozen=True)
class PastLine:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class PastOrder:
    """What replay needs of a placed order: its request as kept, its live plan, when."""

    id: str
    created_at: datetime
    channel: str
    ship_to: dict[str, Any]
    attributes: dict[str, Any]
    on_short: str | None
    pickup_location: str | None
    order_ref: str | None
    customer_id: str | None
    plan: dict[str, Any]
    lines: list[PastLine]


class ReplayHistory:
    """Reads for replay, in one read-only transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def order_ids_since(self, since: datetime, limit: int) -> list[str]:
        """Ids of the orders placed at or after `since`, oldest first (at most `limit`)."""
        query = (select(OrderRow.id).where(OrderRow.created_at >= naive_utc(since))
                 .order_by(OrderRow.created_at, OrderRow.id).limit(limit))
        return list(self.session.scalars(query))

    def existing_orders(self, ids: Collection[str]) -> set[str]:
        """Which of these ids name orders."""
        found: set[str] = set()
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            found.update(self.session.scalars(
                select(OrderRow.id).where(OrderRow.id.in_(wanted[start:start + 500]))))
        return found

    def orders(self, ids: Collection[str]) -> list[PastOrder]:
        """These orders with their lines (in line order), in chunks of 500 ids."""
        o, ol = OrderRow.__table__, OrderLineRow.__table__
        found: list[PastOrder] = []
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            lines: dict[str, list[PastLine]] = {}
            for r in self.session.execute(
                    select(ol.c.order_id, ol.c.sku, ol.c.quantity, ol.c.unit_price)
                    .where(ol.c.order_id.in_(chunk)).order_by(ol.c.order_id, ol.c.line_no)):
                lines.setdefault(r[0], []).append(PastLine(r[1], int(r[2]), Decimal(r[3])))
            found += [PastOrder(r[0], r[1], r[2], r[3] or {}, r[4] or {}, r[5], r[6], r[7],
                                r[8], r[9] or {}, lines.get(r[0], []))
                      for r in self.session.execute(select(
                          o.c.id, o.c.created_at, o.c.channel, o.c.ship_to, o.c.attributes,
                          o.c.on_short, o.c.pickup_location_id, o.c.order_ref,
                          o.c.customer_id, o.c.plan).where(o.c.id.in_(chunk)))]
        return found

    def positions(self, skus: Collection[str]) -> list[tuple[str, str, int, int, int]]:
        """Today's (location, sku, on_hand, allocated, reserved) of these SKUs (rows that
        unpack as tuples: a million of them are fetched at once, not converted one by one)."""
        sp = StockPosition.__table__
        query = select(sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated,
                       sp.c.reserved).where(sp.c.sku.in_(sorted(set(skus))))
        return list(self.session.execute(query).all())

    def journal_since(self, since: datetime, skus: Collection[str]) -> list[JournalRow]:
        """Every change of these SKUs journaled at or after `since`, oldest first."""
        j = InventoryJournalEntry.__table__
        query = (select(j.c.id, j.c.at, j.c.location_id, j.c.sku, j.c.cause, j.c.refs,
                        j.c.on_hand_after - j.c.on_hand_before,
                        j.c.allocated_after - j.c.allocated_before,
                        j.c.reserved_after - j.c.reserved_before)
                 .where(j.c.at >= naive_utc(since), j.c.sku.in_(sorted(set(skus))))
                 .order_by(j.c.id))
        return [JournalRow(int(r[0]), r[1], r[2], r[3], r[4],
                           json.loads(r[5]) if isinstance(r[5], str) else dict(r[5] or {}),
                           int(r[6]), int(r[7]), int(r[8]))
                for r in self.session.execute(query)]

    def fulfilment_spans(self, since: datetime) -> list[FulfilmentSpan]:
        """Fulfilments open at `since` or opened after it, with when they closed."""
        f, fl = FulfilmentRow.__table__, FulfilmentLineRow.__table__
        at = naive_utc(since)
        lines = (select(fl.c.fulfilment_id, func.count().label("n"))
                 .group_by(fl.c.fulfilment_id).subquery())
        query = (select(f.c.order_id, f.c.location_id, f.c.status, lines.c.n, f.c.created_at,
                        f.c.updated_at, f.c.shipped_at)
                 .join(lines, lines.c.fulfilment_id == f.c.id)
                 .where(or_(f.c.status.in_(OPEN_FULFILMENT), f.c.created_at >= at,
                            f.c.updated_at >= at)))
        return [_span(r) for r in self.session.execute(query)]


def _span(r: Sequence[object]) -> FulfilmentSpan:
    order_id, location, status, lines, created, updated, shipped = r
    closed = None if status in OPEN_FULFILMENT else (shipped or updated)
    return FulfilmentSpan(str(order_id), str(location), int(lines),  # type: ignore[call-overload]
                          created, closed)  # type: ignore[arg-type]
