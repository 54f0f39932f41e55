"""How a location's stored positions differ from the counts a snapshot brings, in SQL.

Only differences leave the database: a million unchanged positions never travel to Python.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    exists,
    func,
    null,
    select,
    text,
)
from sqlalchemy.orm import Session

from service.store import work_mem
from service.store.bulk_counts import copy_rows, temp_name
from service.store.models import StockPosition
from service.store.position_rows import PositionRow, position_columns, position_row, row_locking

_BULK_WORK_MEM_MB = 64  # PostgreSQL, at least, for the snapshot's transaction (sized to the
# counts above that, store/work_mem.py): one-batch hash joins
# SQLite: JSON functions (json_each) are built in from 3.38; older libraries stage the counts
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38, 0)


@dataclass
class LocationDiff:
    """How a location's stored positions differ from the counts a snapshot brings.

    Only differences leave the database: counted skus whose count differs (with the stored
    position, None when there is none) and stocked positions the snapshot does not count.
    """

    stocked: int = 0
    changed: dict[str, tuple[int, PositionRow | None]] = field(default_factory=dict)
    uncounted: list[PositionRow] = field(default_factory=list)


def diff_counts(session: Session, counts: Mapping[str, Mapping[str, int]],
                max_work_mem_mb: int = work_mem.DEFAULT_MAX_MB) -> dict[str, LocationDiff]:
    """Compare wanted counts ({location: {sku: on_hand}}) with the stored positions, in SQL.

    The counts go into a temporary table (COPY on PostgreSQL; a bulk insert on SQLite before
    3.38) or, on SQLite with JSON functions, travel as one JSON document read by json_each;
    set-based queries return only the differences, so a million unchanged positions never
    travel to Python. On PostgreSQL the transaction's work_mem is sized to the counts, at
    most max_work_mem_mb.
    """
    diffs = {location: LocationDiff() for location in counts}
    if not counts:
        return diffs
    if not row_locking(session) and _SQLITE_JSON:
        _diff_sqlite_json(session, counts, diffs)
        return diffs
    staging = _stage_counts(session, counts, max_work_mem_mb)
    try:
        _read_diff(session, staging, sorted(counts), diffs)
    finally:
        staging.drop(session.connection())
    return diffs


def _stage_counts(session: Session, counts: Mapping[str, Mapping[str, int]],
                  max_work_mem_mb: int) -> Table:
    postgres = row_locking(session)
    table = Table(temp_name("snapshot_counts"), MetaData(),
                  Column("location_id", String(64), primary_key=not postgres),
                  Column("sku", String(64), primary_key=not postgres),
                  Column("on_hand", Integer), prefixes=["TEMPORARY"])
    conn = session.connection()
    table.create(conn)
    rows = ((loc, sku, qty) for loc, by_sku in counts.items() for sku, qty in by_sku.items())
    if postgres:  # COPY, then statistics and memory so the planner hashes in one batch
        copy_rows(session, table.name, ("location_id", "sku", "on_hand"), rows)
        conn.exec_driver_sql(f"ANALYZE {table.name}")
        rows_staged = sum(len(by_sku) for by_sku in counts.values())
        conn.exec_driver_sql(work_mem.set_local_sql(
            work_mem.sized_mb(rows_staged, _BULK_WORK_MEM_MB, max_work_mem_mb)))
    else:  # SQLite: the driver's executemany on plain tuples (no per-row parameter objects)
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} (location_id, sku, on_hand) VALUES (?, ?, ?)", list(rows))
    return table


def _read_diff(session: Session, staging: Table, locations: list[str],
               diffs: dict[str, LocationDiff]) -> None:
    sp, cols = position_columns()
    st = staging.c
    at_locations = sp.c.location_id.in_(locations)
    stocked = select(sp.c.location_id, func.count()).where(at_locations, sp.c.on_hand > 0
                                                           ).group_by(sp.c.location_id)
    for location, count in session.execute(stocked):
        diffs[location].stocked = count
    same = and_(sp.c.location_id == st.location_id, sp.c.sku == st.sku)
    if row_locking(session):  # PostgreSQL: one hash full join finds both kinds of difference
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
        diffs[r[0]].changed[r[1]] = (r[2], None if r[3] is None else position_row(r[3:]))
    short = []
    for location in locations:
        diff, wanted = diffs[location], counts[location]
        matched = sum(1 for qty in wanted.values() if qty > 0)
        for qty, current in diff.changed.values():  # stored values differ from counts
            matched += (current is not None and current.on_hand > 0) - (qty > 0)
        if diff.stocked > matched:
            short.append(location)
    if short:
        sp, cols = position_columns()
        stocked = session.execute(select(*cols).where(sp.c.location_id.in_(short),
                                                      sp.c.on_hand > 0))
        for r in stocked:
            if r[2] not in counts[r[1]]:
                diffs[r[1]].uncounted.append(position_row(r))


def _collect(rows: Iterable[Sequence], diffs: dict[str, LocationDiff]) -> None:
    """Sort (staged location, sku, count, *position) rows into changed and uncounted."""
    for r in rows:
        current = None if r[3] is None else position_row(r[3:])
        if r[1] is None:  # stored but not counted
            diffs[current.location_id].uncounted.append(current)  # type: ignore[union-attr]
        else:
            diffs[r[0]].changed[r[1]] = (r[2], current)
