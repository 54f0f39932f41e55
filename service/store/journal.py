"""The inventory journal: name the cause of a transaction's position changes, read the
changes, and reconstruct positions as they were at a time.

The rows are written by the positions table's triggers (migration 0022), never here. A unit
of work names its cause once (`because`) before it changes stock: on PostgreSQL as
transaction-local settings (set_config(..., true): gone at commit or rollback); on SQLite in
the connection's pool record, read by the triggers through the SQL function `oms_journal`
(registered on every connection by `install_sqlite_function`, cleared at check-in).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, text, union_all
from sqlalchemy.orm import Session

from service.domain.journal import checked_cause
from service.store.models import InventoryJournalEntry, StockPosition
from service.store.models.base import naive_utc

_STATE = "journal"  # the key of a SQLite connection's journal context in its pool record


@dataclass(frozen=True)
class JournalEntry:
    id: int
    at: datetime
    location_id: str
    sku: str
    cause: str
    refs: dict[str, Any]
    before: tuple[int, int, int]  # (on_hand, allocated, reserved)
    after: tuple[int, int, int]


@dataclass(frozen=True)
class PositionAsOf:
    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int


class JournalRepository:
    """The journal as one transaction sees it."""

    def __init__(self, session: Session, clock: Any) -> None:
        self.session, self.clock = session, clock

    def because(self, cause: str, **refs: Any) -> None:
        """Name the cause (and ids) of the position changes this transaction writes next,
        timed now by the service's clock; a later call names the changes after it."""
        values = self.cause(cause, **refs)
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(text(
                "SELECT set_config('oms.journal_cause', :cause, true),"
                " set_config('oms.journal_refs', :refs, true),"
                " set_config('oms.journal_at', :at, true)"), values)
        else:
            connection.connection.info.setdefault(_STATE, {}).update(values)

    def cause(self, cause: str, **refs: Any) -> dict[str, str]:
        """The settings `because` gives the triggers (cause, refs, at), timed now; a
        statement that sets them itself (`Backlog.read_with`) takes them from here."""
        return {"cause": checked_cause(cause),
                "refs": json.dumps({k: v for k, v in refs.items() if v is not None},
                                   sort_keys=True, default=str),
                "at": _stamp(self.clock.now())}

    def entries(self, location_id: str, sku: str, *, after: int | None, since: datetime | None,
                limit: int, oldest_first: bool) -> list[JournalEntry]:
        """A page of one position's changes, newest first (or oldest), after the id `after`."""
        j = InventoryJournalEntry.__table__
        query = select(j).where(j.c.sku == sku, j.c.location_id == location_id)
        if since is not None:
            query = query.where(j.c.at >= since)
        if after is not None:
            query = query.where(j.c.id > after if oldest_first else j.c.id < after)
        query = query.order_by(j.c.id if oldest_first else j.c.id.desc()).limit(limit)
        return [_entry(r) for r in self.session.execute(query)]

    def as_of(self, at: datetime, skus: Collection[str] | None = None,
              location_id: str | None = None) -> list[PositionAsOf]:
        """Positions as they were at `at` (of these SKUs, or all; at one location, or all),
        by location then sku: today's positions minus every change journaled after `at`.

        Exact for any time since the journal began (migration 0022); for an earlier time
        it gives the positions as they were when it began. Positions then empty (0/0/0)
        are left out, as a missing position means the same.
        """
        sp, j = StockPosition.__table__, InventoryJournalEntry.__table__
        now = select(sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated, sp.c.reserved)
        later = select(j.c.location_id, j.c.sku, j.c.on_hand_before - j.c.on_hand_after,
                       j.c.allocated_before - j.c.allocated_after,
                       j.c.reserved_before - j.c.reserved_after).where(j.c.at > at)
        now, later = _narrowed(now, sp, skus, location_id), _narrowed(later, j, skus,
                                                                      location_id)
        both = union_all(now, later).subquery()
        c = both.c
        sums = [func.sum(col).label(name) for col, name in zip(
            list(c)[2:], ("on_hand", "allocated", "reserved"), strict=True)]
        query = (select(c[0], c[1], *sums).group_by(c[0], c[1])
                 .having(func.abs(sums[0]) + func.abs(sums[1]) + func.abs(sums[2])
                         > literal(0))
                 .order_by(c[0], c[1]))
        return [PositionAsOf(r[0], r[1], int(r[2]), int(r[3]), int(r[4]))
                for r in self.session.execute(query)]

    def causes_since(self, first_id: int) -> list[str]:
        """The causes of the changes journaled from this id on, oldest first."""
        j = InventoryJournalEntry.__table__
        return list(self.session.scalars(select(j.c.cause).where(j.c.id >= first_id)
                                         .order_by(j.c.id)))

    def last_id(self) -> int:
        """The newest journal row's id (0 before the first)."""
        j = InventoryJournalEntry.__table__
        return int(self.session.scalar(select(func.coalesce(func.max(j.c.id), 0))) or 0)


def _narrowed(query: Any, table: Any, skus: Collection[str] | None,
              location_id: str | None) -> Any:
    if skus is not None:
        query = query.where(table.c.sku.in_(sorted(set(skus))))
    if location_id is not None:
        query = query.where(table.c.location_id == location_id)
    return query


def _entry(r: Sequence[Any]) -> JournalEntry:
    row = r._mapping  # type: ignore[attr-defined]
    refs = row["refs"]
    return JournalEntry(
        row["id"], row["at"], row["location_id"], row["sku"], row["cause"],
        json.loads(refs) if isinstance(refs, str) else dict(refs or {}),
        (row["on_hand_before"], row["allocated_before"], row["reserved_before"]),
        (row["on_hand_after"], row["allocated_after"], row["reserved_after"]))


def _stamp(value: datetime) -> str:
    """A time as both databases store UTCDateTime: naive UTC, microseconds, space-separated
    (SQLite compares the text)."""
    return naive_utc(value).isoformat(sep=" ", timespec="microseconds")  # type: ignore[union-attr]


def install_sqlite_function(dbapi_connection: Any, record: Any) -> None:
    """Register `oms_journal(name)` on a new SQLite connection: the cause, refs or time the
    connection's current unit of work named (NULL when none did)."""
    state: dict[str, str] = record.info.setdefault(_STATE, {})
    dbapi_connection.create_function("oms_journal", 1, state.get)


def forget_sqlite_context(_dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool carries no unit of work's cause into the next one."""
    state = record.info.get(_STATE)
    if state:
        state.clear()
