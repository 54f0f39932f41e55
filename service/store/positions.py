"""SQL for the stock ledger: read, lock and write positions in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session

from service.store.models import LocationStockState, StockPosition, utcnow
from service.store.upsert import insert_for

_CHUNK = 2000


@dataclass
class PositionRow:
    id: int | None
    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int
    as_of: datetime | None


def _row(r: Sequence) -> PositionRow:
    return PositionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


def _columns():
    sp = StockPosition.__table__
    return sp, [sp.c.id, sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated,
                sp.c.reserved, sp.c.as_of]


def locked(session: Session) -> bool:
    """Whether this database takes row locks (PostgreSQL) rather than a database lock."""
    return session.get_bind().dialect.name == "postgresql"


def fetch_keys(session: Session, keys: Iterable[tuple[str, str]], lock: bool = False
               ) -> dict[tuple[str, str], PositionRow]:
    """Positions for (location, sku) keys; locked for update (in id order) when asked."""
    sp, cols = _columns()
    out: dict[tuple[str, str], PositionRow] = {}
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        query = select(*cols).where(tuple_(sp.c.location_id, sp.c.sku).in_(chunk))
        if lock and locked(session):
            query = query.order_by(sp.c.id).with_for_update()
        for r in session.execute(query):
            out[(r[1], r[2])] = _row(r)
    return out


def fetch_location(session: Session, location_id: str) -> dict[str, PositionRow]:
    """Every position of a location, by sku (not locked)."""
    sp, cols = _columns()
    rows = session.execute(select(*cols).where(sp.c.location_id == location_id))
    return {r[2]: _row(r) for r in rows}


def lock_ids(session: Session, ids: Sequence[int]) -> dict[int, PositionRow]:
    """Lock positions by id (in id order) and return their current values."""
    sp, cols = _columns()
    out: dict[int, PositionRow] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        query = select(*cols).where(sp.c.id.in_(ordered[start:start + _CHUNK]))
        if locked(session):
            query = query.order_by(sp.c.id).with_for_update()
        for r in session.execute(query):
            out[r[0]] = _row(r)
    return out


def write_counts(session: Session, rows: Sequence[PositionRow]) -> None:
    """Store on_hand and as_of of existing positions; insert the new ones."""
    sp = StockPosition.__table__
    now = utcnow()
    existing = [{"pid": r.id, "on_hand": r.on_hand, "as_of": r.as_of, "updated_at": now}
                for r in rows if r.id is not None]
    new = [{"location_id": r.location_id, "sku": r.sku, "on_hand": r.on_hand, "as_of": r.as_of,
            "allocated": 0, "reserved": 0, "updated_at": now} for r in rows if r.id is None]
    if existing:
        stmt = update(sp).where(sp.c.id == bindparam("pid")).values(
            on_hand=bindparam("on_hand"), as_of=bindparam("as_of"),
            updated_at=bindparam("updated_at"))
        session.connection().execute(stmt, existing)
    if new:
        session.execute(insert(sp), new)


def snapshot_times(session: Session, location_ids: Iterable[str]) -> dict[str, datetime | None]:
    """The as_of of each location's newest applied snapshot."""
    table = LocationStockState.__table__
    ids = sorted(set(location_ids))
    rows = session.execute(select(table.c.location_id, table.c.snapshot_as_of)
                           .where(table.c.location_id.in_(ids)))
    found = {r[0]: r[1] for r in rows}
    return {loc: found.get(loc) for loc in ids}


def record_snapshot_time(session: Session, location_id: str, as_of: datetime) -> None:
    """Remember a location's newest snapshot time (never moving it backwards)."""
    table = LocationStockState.__table__
    stmt = insert_for(session, table).values(location_id=location_id, snapshot_as_of=as_of)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["location_id"], set_={"snapshot_as_of": stmt.excluded.snapshot_as_of},
        where=(table.c.snapshot_as_of.is_(None)) | (table.c.snapshot_as_of < as_of)))
