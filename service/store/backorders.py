"""Backordered lines and the wakeups that release them (see services/orders/releasing.py).

A wakeup is a row naming a SKU whose ATS rose while some order had units of it backordered:
written by the transaction that raised it (one INSERT ... SELECT over the partial index of
waiting lines, so a SKU nobody waits for writes nothing), taken by the release job.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import DateTime, and_, bindparam, delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from service.clock import Clock
from service.store.models import BackorderWakeup, OrderLineRow, OrderRow

CHUNK = 900  # SKUs per statement (SQLite's older limit on bound parameters is 999)
WAITING = OrderLineRow.quantity_backordered > 0  # the partial index's predicate, as written


# a wakeup per SKU of these that some order has backordered (built once: every re-route,
# cancel and release runs it)
_WAKE = insert(BackorderWakeup.__table__).from_select(["sku", "created_at"], select(
    OrderLineRow.sku, bindparam("now", type_=DateTime()).label("created_at")).where(
    WAITING, OrderLineRow.sku.in_(bindparam("skus", expanding=True))).distinct())


class BackorderRepository:
    """Wakeups and waiting orders of one transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def wake(self, skus: Collection[str]) -> None:
        """Note each of these SKUs that some order has backordered (the others: nothing)."""
        ordered = sorted(set(skus))
        if not ordered:
            return
        if len(ordered) > CHUNK and not self.session.scalar(select(exists().where(WAITING))):
            return  # a large count while nothing waits: one probe, not a statement per chunk
        now = self.clock.now()
        for start in range(0, len(ordered), CHUNK):
            self.session.execute(_WAKE, {"now": now, "skus": ordered[start:start + CHUNK]})

    def take_woken(self, limit: int) -> list[str]:
        """The SKUs of the oldest wakeups (up to `limit` rows), which are deleted."""
        rows = self.session.execute(select(BackorderWakeup.id, BackorderWakeup.sku)
                                    .order_by(BackorderWakeup.id).limit(limit)).all()
        if not rows:
            return []
        self.session.execute(delete(BackorderWakeup)
                             .where(BackorderWakeup.id <= max(r.id for r in rows)))
        return sorted({r.sku for r in rows})

    def pending(self) -> int:
        """Wakeups not taken yet."""
        return int(self.session.scalar(select(func.count()).select_from(BackorderWakeup)) or 0)

    def waiting_orders(self, skus: Collection[str] | None, limit: int,
                       after: tuple[datetime, str] | None = None
                       ) -> list[tuple[datetime, str]]:
        """(created_at, id) of orders with units backordered (of these SKUs; None: of any),
        oldest first, after the order `after` names."""
        query = (select(OrderRow.created_at, OrderRow.id)
                 .join(OrderLineRow, OrderLineRow.order_id == OrderRow.id).where(WAITING))
        if skus is not None:
            if not skus:
                return []
            query = query.where(OrderLineRow.sku.in_(sorted(skus)))
        if after is not None:
            query = query.where(or_(OrderRow.created_at > after[0],
                                    and_(OrderRow.created_at == after[0],
                                         OrderRow.id > after[1])))
        query = query.distinct().order_by(OrderRow.created_at, OrderRow.id).limit(limit)
        return [(row.created_at, row.id) for row in self.session.execute(query)]
