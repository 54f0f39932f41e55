"""When each SKU's next active reservation falls due (`reservation_deadlines`), kept by the
writers of reservations.

Invariant: every active reservation's SKU has a deadline at or before its `expires_at`. A
reservation sets it when it is made (`note`); an expiry pass of the SKU moves it on to the
next active reservation, or removes it (`move_on`). A reservation released or consumed early
leaves it early, which only costs one expiry pass when it passes. Both take the deadline's
row lock last in their transaction, after positions and ATS rows, so they never wait on each
other crosswise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from service.store.models import Reservation, ReservationDeadline
from service.store.upsert import insert_for


def note(session: Session, sku: str, expires_at: datetime) -> None:
    """A reservation of sku expiring at expires_at was made in this transaction."""
    table = ReservationDeadline.__table__
    stmt = insert_for(session, table).values(sku=sku, due_at=expires_at)
    earlier = func.least if session.get_bind().dialect.name == "postgresql" else func.min
    session.execute(stmt.on_conflict_do_update(
        index_elements=["sku"], set_={"due_at": earlier(table.c.due_at, stmt.excluded.due_at)}))


def any_due(session: Session, skus: Sequence[str], now: datetime) -> bool:
    """Whether a deadline of these skus has passed (a reservation of theirs may be overdue)."""
    table = ReservationDeadline.__table__
    query = select(table.c.sku).where(table.c.sku.in_(list(skus)), table.c.due_at <= now)
    return session.scalar(query.limit(1)) is not None


def move_on(session: Session, now: datetime, skus: Sequence[str] | None = None,
            limit: int = 1000) -> int:
    """Move the deadlines that have passed (of skus, or any) to each SKU's next active
    reservation.

    The deadlines are locked first; the next reservations are read by a later statement, so
    on PostgreSQL (read committed) it sees every reservation committed before the lock was
    granted, and one made after waits for this transaction and then lowers the deadline
    itself. A deadline another transaction holds is skipped (as overdue reservations are):
    it stays passed, so the next read of its SKU tries again. Returns how many deadlines were
    moved or removed.
    """
    table, res = ReservationDeadline.__table__, Reservation.__table__
    query = select(table.c.sku).where(table.c.due_at <= now).order_by(table.c.sku).limit(limit)
    if skus is not None:
        query = query.where(table.c.sku.in_(list(skus)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    due = list(session.scalars(query))
    if not due:
        return 0
    following = dict(session.execute(
        select(res.c.sku, func.min(res.c.expires_at))
        .where(res.c.status == "active", res.c.sku.in_(due)).group_by(res.c.sku)).all())
    gone = [sku for sku in due if sku not in following]
    if gone:
        session.execute(delete(table).where(table.c.sku.in_(gone)))
    if following:
        session.execute(update(table).where(table.c.sku == bindparam("k"))
                        .values(due_at=bindparam("d")),
                        [{"k": sku, "d": due_at} for sku, due_at in following.items()])
    return len(due)


def repair(session: Session) -> None:
    """Give every SKU with active reservations a deadline no later than its earliest one.

    Run by the expiry job: it restores the invariant for reservations made by a writer that
    did not note them (such as an older version of the service during a rolling deploy).
    Deadlines are taken in SKU order, like move_on's.
    """
    table, res = ReservationDeadline.__table__, Reservation.__table__
    earliest = (select(res.c.sku, func.min(res.c.expires_at).label("due_at"))
                .where(res.c.status == "active").group_by(res.c.sku).order_by(res.c.sku))
    stmt = insert_for(session, table).from_select(["sku", "due_at"], earliest)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["sku"], set_={"due_at": stmt.excluded.due_at},
        where=table.c.due_at > stmt.excluded.due_at))
