"""SQL for the stock ledger: read, lock and write positions in bulk."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    any_,
    bindparam,
    exists,
    func,
    insert,
    null,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.domain.ledger import latest
from service.store.db import driver
from service.store.models import LocationStockState, StockPosition, utcnow
from service.store.models.base import naive_utc
from service.store.upsert import insert_for

T = TypeVar("T")
_CHUNK = 2000
_COPY_THRESHOLD = 1000  # PostgreSQL: from this many rows, bulk writes go through COPY
BULK_ROWS = _COPY_THRESHOLD  # PostgreSQL: from this many, snapshot writes skip the lock pass
_BULK_WORK_MEM = "64MB"  # PostgreSQL, for the snapshot's transaction: one-batch hash joins
# SQLite: JSON functions (json_each) are built in from 3.38; older libraries stage the counts
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38, 0)


@dataclass
class PositionRow:
    id: int | None
    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int
    as_of: datetime | None
    shipped_at: datetime | None = None  # the newest shipment from it

    @property
    def counts_from(self) -> datetime | None:
        """A count older than this is stale: older than what the position knows, or taken
        before a shipment (it would bring the shipped units back)."""
        return latest(self.as_of, self.shipped_at)


def _row(r: Sequence) -> PositionRow:
    return PositionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] if len(r) > 7 else None)


def _columns():
    sp = StockPosition.__table__
    return sp, [sp.c.id, sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated,
                sp.c.reserved, sp.c.as_of, sp.c.last_shipped_at]


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
    if ordered and locked(session):  # PostgreSQL: one statement, the ids as one array
        query = select(*cols).where(sp.c.id == any_(bindparam("ids", type_=ARRAY(Integer)))
                                    ).order_by(sp.c.id).with_for_update()
        return {r[0]: _row(r) for r in session.execute(query, {"ids": ordered})}
    for start in range(0, len(ordered), _CHUNK):
        query = select(*cols).where(sp.c.id.in_(ordered[start:start + _CHUNK]))
        if locked(session):
            query = query.order_by(sp.c.id).with_for_update()
        for r in session.execute(query):
            out[r[0]] = _row(r)
    return out


NEVER_COUNTED = datetime(1970, 1, 1, tzinfo=UTC)


def ensure_positions(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    """Create empty positions for keys that have none (concurrent creators do not collide).

    An empty position (0 on hand, never counted) means what a missing one means, so the
    caller can then lock every key it will change.
    """
    rows = [{"location_id": loc, "sku": sku, "on_hand": 0, "as_of": NEVER_COUNTED,
             "allocated": 0, "reserved": 0, "updated_at": utcnow()} for loc, sku in sorted(keys)]
    if not rows:
        return
    sp = StockPosition.__table__
    for start in range(0, len(rows), _CHUNK):
        stmt = insert_for(session, sp).values(rows[start:start + _CHUNK])
        session.execute(stmt.on_conflict_do_nothing(index_elements=["location_id", "sku"]))


def write_counts(session: Session, rows: Sequence[PositionRow]) -> None:
    """Store on_hand and as_of of existing positions; insert the new ones."""
    sp = StockPosition.__table__
    now = utcnow()
    existing = [r for r in rows if r.id is not None]
    new = [{"location_id": r.location_id, "sku": r.sku, "on_hand": r.on_hand, "as_of": r.as_of,
            "allocated": 0, "reserved": 0, "updated_at": now} for r in rows if r.id is None]
    if locked(session) and len(existing) >= _COPY_THRESHOLD:
        _update_counts_via_copy(session, existing, now)
    elif existing:
        stmt = update(sp).where(sp.c.id == bindparam("pid")).values(
            on_hand=bindparam("on_hand"), as_of=bindparam("as_of"),
            updated_at=bindparam("updated_at"))
        session.connection().execute(stmt, [
            {"pid": r.id, "on_hand": r.on_hand, "as_of": r.as_of, "updated_at": now}
            for r in existing])
    if new:
        session.execute(insert(sp), new)


def _update_counts_via_copy(session: Session, rows: Sequence[PositionRow], now: datetime
                            ) -> None:
    """PostgreSQL: COPY (id, on_hand, as_of) into a temporary table, then one UPDATE ... FROM."""
    table = Table(_temp_name("count_updates"), MetaData(), Column("id", Integer),
                  Column("on_hand", Integer), Column("as_of", StockPosition.__table__.c.as_of.type),
                  prefixes=["TEMPORARY"])
    conn = session.connection()
    table.create(conn)
    _copy(session, table.name, ("id", "on_hand", "as_of"),
          ((r.id, r.on_hand, _naive_utc(r.as_of)) for r in rows))
    conn.exec_driver_sql(f"ANALYZE {table.name}")
    sp = StockPosition.__table__
    conn.execute(update(sp).where(sp.c.id == table.c.id).values(
        on_hand=table.c.on_hand, as_of=table.c.as_of, updated_at=now))
    table.drop(conn)


def update_counts_unless_moved(session: Session,
                               changes: Sequence[tuple[PositionRow, int, datetime]],
                               meanwhile: Callable[[], T] | None = None
                               ) -> tuple[dict[int, tuple[int, int]], T | None]:
    """PostgreSQL: set (on_hand, as_of) of each position still holding the on_hand and as_of
    it was read with; {id: (allocated, reserved)} of those written, as of the write, and what
    ``meanwhile()`` returned.

    One UPDATE, driven in id order through the primary key (rows lock in the order every
    writer uses), instead of a locking SELECT and then an UPDATE: the UPDATE's own row lock
    rechecks each row, so a position another transaction moved is simply not written here.
    The statement is sent in pipeline mode and ``meanwhile`` runs in Python while the
    database works on it.
    """
    if not changes:
        return {}, meanwhile() if meanwhile else None
    ordered = sorted(changes, key=lambda c: c[0].id or 0)
    stamp = _TimeTexts()
    arrays = {"id": _joined(pos.id for pos, _q, _t in ordered),
              "old": _joined(pos.on_hand for pos, _q, _t in ordered),
              "old_as_of": ",".join([stamp(pos.as_of) for pos, _q, _t in ordered]),
              "qty": _joined(qty for _p, qty, _t in ordered),
              "as_of": ",".join([stamp(as_of) for _p, _q, as_of in ordered]),
              "now": _naive_utc(utcnow())}
    pg = driver(session)
    with pg.cursor() as cursor:
        saved = cursor.execute("SELECT current_setting('enable_hashjoin'),"
                               " current_setting('enable_mergejoin')").fetchone()
        _join_settings(cursor, "off", "off")  # a nested loop over the sorted rows: id order
        with pg.pipeline() as pipeline:
            cursor.execute(_UPDATE_UNLESS_MOVED, arrays)
            result = meanwhile() if meanwhile else None
            pipeline.sync()
            written = {r[0]: (r[1], r[2]) for r in cursor.fetchall()}
        _join_settings(cursor, *saved)  # (after an error the rollback undoes them)
    return written, result


# The columns go as comma-joined text that the server splits (string_to_array): psycopg
# adapts a list element by element in Python, about 0.3 s for 5 x 50,000 values, on the
# path before the statement is sent; joining the same text takes a few milliseconds.
_UPDATE_UNLESS_MOVED = (
    "UPDATE stock_positions AS sp SET on_hand = c.on_hand, as_of = c.as_of,"
    " updated_at = %(now)s FROM (SELECT * FROM unnest("
    "string_to_array(%(id)s, ',')::int[], string_to_array(%(old)s, ',')::int[],"
    " string_to_array(%(old_as_of)s, ',', '')::timestamp[],"
    " string_to_array(%(qty)s, ',')::int[], string_to_array(%(as_of)s, ',', '')::timestamp[])"
    " AS u(id, old_on_hand, old_as_of, on_hand, as_of) ORDER BY id) AS c"
    " WHERE sp.id = c.id AND sp.on_hand = c.old_on_hand"
    " AND sp.as_of IS NOT DISTINCT FROM c.old_as_of"
    " AND (sp.last_shipped_at IS NULL OR sp.last_shipped_at <= c.as_of)"
    " RETURNING sp.id, sp.allocated, sp.reserved")


def _join_settings(cursor: Any, hashjoin: str, mergejoin: str) -> None:
    cursor.execute("SELECT set_config('enable_hashjoin', %(h)s, true),"
                   " set_config('enable_mergejoin', %(m)s, true)", {"h": hashjoin, "m": mergejoin})



@dataclass
class LocationDiff:
    """How a location's stored positions differ from the counts a snapshot brings.

    Only differences leave the database: counted skus whose count differs (with the stored
    position, None when there is none) and stocked positions the snapshot does not count.
    """

    stocked: int = 0
    changed: dict[str, tuple[int, PositionRow | None]] = field(default_factory=dict)
    uncounted: list[PositionRow] = field(default_factory=list)


def diff_counts(session: Session, counts: Mapping[str, Mapping[str, int]]
                ) -> dict[str, LocationDiff]:
    """Compare wanted counts ({location: {sku: on_hand}}) with the stored positions, in SQL.

    The counts go into a temporary table (COPY on PostgreSQL; a bulk insert on SQLite before
    3.38) or, on SQLite with JSON functions, travel as one JSON document read by json_each;
    set-based queries return only the differences, so a million unchanged positions never
    travel to Python.
    """
    diffs = {location: LocationDiff() for location in counts}
    if not counts:
        return diffs
    if not locked(session) and _SQLITE_JSON:
        _diff_sqlite_json(session, counts, diffs)
        return diffs
    staging = _stage_counts(session, counts)
    try:
        _read_diff(session, staging, sorted(counts), diffs)
    finally:
        staging.drop(session.connection())
    return diffs


def _stage_counts(session: Session, counts: Mapping[str, Mapping[str, int]]) -> Table:
    postgres = locked(session)
    table = Table(_temp_name("snapshot_counts"), MetaData(),
                  Column("location_id", String(64), primary_key=not postgres),
                  Column("sku", String(64), primary_key=not postgres),
                  Column("on_hand", Integer), prefixes=["TEMPORARY"])
    conn = session.connection()
    table.create(conn)
    rows = ((loc, sku, qty) for loc, by_sku in counts.items() for sku, qty in by_sku.items())
    if postgres:  # COPY, then statistics and memory so the planner hashes in one batch
        _copy(session, table.name, ("location_id", "sku", "on_hand"), rows)
        conn.exec_driver_sql(f"ANALYZE {table.name}")
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{_BULK_WORK_MEM}'")
    else:  # SQLite: the driver's executemany on plain tuples (no per-row parameter objects)
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} (location_id, sku, on_hand) VALUES (?, ?, ?)", list(rows))
    return table


def _read_diff(session: Session, staging: Table, locations: list[str],
               diffs: dict[str, LocationDiff]) -> None:
    sp, cols = _columns()
    st = staging.c
    at_locations = sp.c.location_id.in_(locations)
    stocked = select(sp.c.location_id, func.count()).where(at_locations, sp.c.on_hand > 0
                                                           ).group_by(sp.c.location_id)
    for location, count in session.execute(stocked):
        diffs[location].stocked = count
    same = and_(sp.c.location_id == st.location_id, sp.c.sku == st.sku)
    if locked(session):  # PostgreSQL: one hash full join finds both kinds of difference
        positions = select(*cols).where(at_locations).subquery()
        pos = positions.c
        query = select(st.location_id, st.sku, st.on_hand, *positions.c).select_from(
            staging.join(positions, and_(pos.location_id == st.location_id,
                                         pos.sku == st.sku), full=True)
        ).where(pos.id.is_(None) | (st.sku.is_(None) & (pos.on_hand > 0))
                | (pos.on_hand != st.on_hand))
        _collect(session.execute(query), diffs)
        return
    changed = select(st.location_id, st.sku, st.on_hand, *cols).select_from(
        staging.outerjoin(sp, same)).where(sp.c.id.is_(None) | (sp.c.on_hand != st.on_hand))
    _collect(session.execute(changed), diffs)
    uncounted = select(null(), null(), null(), *cols).where(
        at_locations, sp.c.on_hand > 0, ~exists().where(same))
    _collect(session.execute(uncounted), diffs)


def _diff_sqlite_json(session: Session, counts: Mapping[str, Mapping[str, int]],
                      diffs: dict[str, LocationDiff]) -> None:
    """SQLite: the same differences without a staging table.

    The counts travel as one JSON document ({location: {sku: on_hand}}, encoded in C) that
    json_each walks inside SQLite, each count looked up through the (location_id, sku)
    unique index: no per-row parameter binding and no temporary b-tree to build. Stocked
    positions the snapshot does not count are found by arithmetic: a location's stocked
    positions minus the counted ones stored with stock (unchanged counts equal the stored
    ones); only a location where that leaves some over has its stocked positions read.
    """
    conn = session.connection()
    locations = sorted(counts)
    for location, count in conn.exec_driver_sql(
            "SELECT location_id, count(*) FROM stock_positions WHERE location_id IN"
            " (SELECT value FROM json_each(?)) AND on_hand > 0 GROUP BY location_id",
            (json.dumps(locations),)):
        diffs[location].stocked = count
    changed = text(
        "SELECT loc.key, cnt.key, cnt.value, sp.id, sp.location_id, sp.sku, sp.on_hand,"
        " sp.allocated, sp.reserved, sp.as_of, sp.last_shipped_at"
        " FROM json_each(:counts) AS loc,"
        " json_each(loc.value) AS cnt LEFT OUTER JOIN stock_positions AS sp"
        " ON sp.location_id = loc.key AND sp.sku = cnt.key"
        " WHERE sp.id IS NULL OR sp.on_hand != cnt.value"
    ).columns(as_of=StockPosition.__table__.c.as_of.type,
              last_shipped_at=StockPosition.__table__.c.last_shipped_at.type)
    for r in conn.execute(changed, {"counts": json.dumps(counts, separators=(",", ":"))}):
        diffs[r[0]].changed[r[1]] = (r[2], None if r[3] is None else _row(r[3:]))
    short = []
    for location in locations:
        diff, wanted = diffs[location], counts[location]
        matched = sum(1 for qty in wanted.values() if qty > 0)
        for qty, current in diff.changed.values():  # stored values differ from counts
            matched += (current is not None and current.on_hand > 0) - (qty > 0)
        if diff.stocked > matched:
            short.append(location)
    if short:
        sp, cols = _columns()
        stocked = session.execute(select(*cols).where(sp.c.location_id.in_(short),
                                                      sp.c.on_hand > 0))
        for r in stocked:
            if r[2] not in counts[r[1]]:
                diffs[r[1]].uncounted.append(_row(r))


def _collect(rows: Iterable[Sequence], diffs: dict[str, LocationDiff]) -> None:
    """Sort (staged location, sku, count, *position) rows into changed and uncounted."""
    for r in rows:
        current = None if r[3] is None else _row(r[3:])
        if r[1] is None:  # stored but not counted
            diffs[current.location_id].uncounted.append(current)  # type: ignore[union-attr]
        else:
            diffs[r[0]].changed[r[1]] = (r[2], current)


def _copy(session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """COPY rows into table on the session's own (psycopg 3) connection and transaction.

    Rows are written as CSV by the csv module (C speed, correct quoting) in large blocks;
    None becomes an unquoted empty field, which CSV COPY reads as NULL.
    """
    pg = driver(session)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
    with pg.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        iterator = iter(rows)
        while block := list(islice(iterator, 100_000)):
            writer.writerows(block)
            copy.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()




def _temp_name(prefix: str) -> str:
    return f"tmp_{prefix}_{uuid.uuid4().hex[:12]}"


def _joined(values: Iterable[int | None]) -> str:
    """Integers as comma-joined text (string_to_array's input)."""
    return ",".join(map(str, values))


class _TimeTexts:
    """Timestamps as naive-UTC ISO text ('' for None), each distinct value formatted once (a
    bulk write repeats a few: the snapshot's times, the stored ones)."""

    def __init__(self) -> None:
        self._texts: dict[datetime | None, str] = {None: ""}

    def __call__(self, value: datetime | None) -> str:
        text = self._texts.get(value)
        if text is None:
            text = self._texts[value] = _naive_utc(value).isoformat(sep=" ")  # type: ignore[union-attr]
        return text


def _naive_utc(value: datetime | None) -> datetime | None:
    """As UTCDateTime stores it: naive UTC."""
    if value is None or value.tzinfo is None:
        return value
    return _naive(value)


@lru_cache(maxsize=4096)  # a bulk write repeats a few times (a snapshot's, the stored ones)
def _naive(value: datetime) -> datetime:
    return naive_utc(value)  # type: ignore[return-value]


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
    record_snapshot_times(session, {location_id: as_of})


def record_snapshot_times(session: Session, times: Mapping[str, datetime]) -> None:
    """Remember each location's newest snapshot time (never moving one backwards)."""
    table = LocationStockState.__table__
    items = sorted(times.items())
    for start in range(0, len(items), 500):
        chunk = [{"location_id": loc, "snapshot_as_of": as_of}
                 for loc, as_of in items[start:start + 500]]
        stmt = insert_for(session, table).values(chunk)
        newer = stmt.excluded.snapshot_as_of
        session.execute(stmt.on_conflict_do_update(
            index_elements=["location_id"], set_={"snapshot_as_of": newer},
            where=(table.c.snapshot_as_of.is_(None)) | (table.c.snapshot_as_of < newer)))
