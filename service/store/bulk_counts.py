"""PostgreSQL bulk writes of stock counts: COPY, and one UPDATE that skips moved positions.

Shared by the snapshot paths: `write_counts_copy` for many new counts at once, and
`update_counts_unless_moved` for a snapshot's counts written without a lock pass first.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Column, Integer, MetaData, Table, update
from sqlalchemy.orm import Session

from service.store.db import driver
from service.store.models import StockPosition
from service.store.models.base import naive_utc

T = TypeVar("T")


def write_counts_copy(session: Session, rows: Sequence[Any], now: datetime) -> None:
    """PostgreSQL: COPY (id, on_hand, as_of) into a temporary table, then one UPDATE ... FROM."""
    table = Table(temp_name("count_updates"), MetaData(), Column("id", Integer),
                  Column("on_hand", Integer), Column("as_of", StockPosition.__table__.c.as_of.type),
                  prefixes=["TEMPORARY"])
    conn = session.connection()
    table.create(conn)
    copy_rows(session, table.name, ("id", "on_hand", "as_of"),
              ((r.id, r.on_hand, naive_utc_fast(r.as_of)) for r in rows))
    conn.exec_driver_sql(f"ANALYZE {table.name}")
    sp = StockPosition.__table__
    conn.execute(update(sp).where(sp.c.id == table.c.id).values(
        on_hand=table.c.on_hand, as_of=table.c.as_of, updated_at=now))
    table.drop(conn)


def update_counts_unless_moved(session: Session,
                               changes: Sequence[tuple[Any, int, datetime]],
                               now: datetime, meanwhile: Callable[[], T] | None = None
                               ) -> tuple[dict[int, tuple[int, int]], T | None]:
    """PostgreSQL: set (on_hand, as_of) of each position still holding the on_hand and as_of
    it was read with; {id: (allocated, reserved)} of those written, as of the write, and what
    ``meanwhile()`` returned.

    One UPDATE, driven in id order through the primary key (rows lock in the order every
    writer uses), instead of a locking SELECT and then an UPDATE: the UPDATE's own row lock
    rechecks each row, so a position another transaction moved is simply not written here.
    More than UPDATE_CHUNK positions go as several statements, in id order. ``meanwhile``
    (pure Python: it must not use the session) runs in a thread of its own while they do:
    the statements wait on the server without the GIL, so it overlaps all of them, not only
    the first (at 10M positions, 5% changed, the snapshot's ATS guess took 2.2 s against the
    first statement's 0.8 s).
    """
    if not changes:
        return {}, meanwhile() if meanwhile else None
    ordered = sorted(changes, key=lambda c: c[0].id or 0)
    pg = driver(session)
    with ThreadPoolExecutor(max_workers=1) as beside, pg.cursor() as cursor:
        guessed = beside.submit(meanwhile) if meanwhile else None
        saved = cursor.execute("SELECT current_setting('enable_hashjoin'),"
                               " current_setting('enable_mergejoin')").fetchone()
        _join_settings(cursor, "off", "off")  # a nested loop over the sorted rows: id order
        written: dict[int, tuple[int, int]] = {}
        for start in range(0, len(ordered), UPDATE_CHUNK):  # chunks in id order, as one
            cursor.execute(_UPDATE_UNLESS_MOVED,
                           _arrays(ordered[start:start + UPDATE_CHUNK], now))
            written.update({r[0]: (r[1], r[2]) for r in cursor.fetchall()})
        _join_settings(cursor, *saved)  # (after an error the rollback undoes them)
        return written, guessed.result() if guessed else None


# The most positions one UPDATE writes: a statement of 500,000 (a 10M-position snapshot, 5%
# changed) sent in pipeline mode left the server waiting on the client and the client on
# the server (bench-scale, 2026-12-06); 50,000 (the 1M snapshot's) is the proven size.
UPDATE_CHUNK = 50_000


def _arrays(ordered: Sequence[tuple[Any, int, datetime]], now: datetime) -> dict[str, Any]:
    stamp = _TimeTexts()
    return {"id": _joined(pos.id for pos, _q, _t in ordered),
            "old": _joined(pos.on_hand for pos, _q, _t in ordered),
            "old_as_of": ",".join([stamp(pos.as_of) for pos, _q, _t in ordered]),
            "qty": _joined(qty for _p, qty, _t in ordered),
            "as_of": ",".join([stamp(as_of) for _p, _q, as_of in ordered]),
            "now": naive_utc_fast(now)}


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


def copy_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
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


def temp_name(prefix: str) -> str:
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
            text = self._texts[value] = naive_utc_fast(value).isoformat(sep=" ")  # type: ignore[union-attr]
        return text


def naive_utc_fast(value: datetime | None) -> datetime | None:
    """As UTCDateTime stores it: naive UTC."""
    if value is None or value.tzinfo is None:
        return value
    return _naive(value)


@lru_cache(maxsize=4096)  # a bulk write repeats a few times (a snapshot's, the stored ones)
def _naive(value: datetime) -> datetime:
    return naive_utc(value)  # type: ignore[return-value]
