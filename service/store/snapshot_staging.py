"""PostgreSQL: a CSV snapshot staged by COPY and compared with the positions in SQL.

The file's bytes go to a temporary table of text columns (one per header field, plus the
line number), untouched. Two set-based statements then return everything the ledger rules
need without a million rows travelling to Python:

- ``count_groups``: rows per (location, as_of text), i.e. every location and every distinct
  time text, for Python to parse each once, with how many of them count a positive number;
- ``read_differences``: a hash full join with the positions of those locations that returns
  only the rows Python has to look at (anything not plainly a valid, unchanged count of an
  existing position) and the positions no row counts, each with its newest shipment, plus
  how many positions those locations hold, in one statement so they come from one snapshot
  of the database.

Each location's position counts (all, stocked) follow from these without reading every
position a second time (``position_counts``): a row left out of the differences counts an
existing position with its stored count, so the positions are the left-out rows plus the
positions among the differences, as long as no position is counted by two rows, which the
total shows.

A row is left out only when Python would certainly read it as a good count equal to the
stored one: sku and location present, its as_of text not a bad one (or absent with a
default time), no adjust, and its on_hand text exactly the stored count's digits.

Each function runs on the psycopg connection it is given, in that connection's transaction
(the feed's own, or the one a part of a large file was staged on).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.domain.ledger import MAX_QUANTITY
from service.store import work_mem
from service.store.position_rows import PositionRow

# str.strip()'s whitespace within ASCII (the only text this path accepts)
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
FIELDS = ("location", "location_id", "sku", "on_hand", "as_of", "adjust")


@dataclass(frozen=True)
class Staging:
    """A staged file: its temporary table and which column holds each field (or None)."""

    table: str
    width: int
    columns: Mapping[str, str | None]
    trim: bool  # the file holds whitespace: keys are trimmed as Python's strip() does

    def key(self, name: str) -> str:
        """A field's text as Python reads it (stripped when the file holds whitespace)."""
        column = self.columns[name]
        if column is None:
            return "NULL::text"
        return f"btrim({column}, %(ws)s)" if self.trim else column


@dataclass(slots=True)
class RowDifference:
    """A row Python has to read, or a position no row counts (line None), or both."""

    line: int | None
    fields: dict[str, str]  # the row's non-empty fields by header name
    location_key: str | None  # the location the row was grouped under in count_groups
    as_of_text: str | None
    position: PositionRow | None  # (with its newest shipment)


def create(pg: Any, header: Sequence[str], trim: bool) -> Staging:
    """A temporary table with a text column per header field (the last of a repeated name)."""
    table = f"tmp_snapshot_rows_{uuid.uuid4().hex[:12]}"
    columns: dict[str, str | None] = dict.fromkeys(FIELDS)
    for index, name in enumerate(header):
        if name in columns:
            columns[name] = f"c{index}"
    fields = ", ".join(f"c{i} text" for i in range(len(header)))
    # no JIT for the rest of this transaction: at 10M positions the diff join's cost passes
    # jit_optimize_above_cost and compiling it (inlining, optimization) took 3.5 s of a 34 s
    # statement on the loaded bench machine, for queries that run once (issue 18)
    pg.execute("SET LOCAL jit = off")
    pg.execute(
        f"CREATE TEMPORARY TABLE {table} (line bigint GENERATED ALWAYS AS IDENTITY "
        f"(START 2 CACHE 100000), {fields}) ON COMMIT DROP")
    return Staging(table, len(header), columns, trim)


def copy_blocks(pg: Any, staging: Staging, blocks: Iterable[bytes]) -> None:
    """COPY the file's data lines (after the header) into the table, as they come."""
    columns = ", ".join(f"c{i}" for i in range(staging.width))
    sql = f"COPY {staging.table} ({columns}) FROM STDIN (FORMAT csv)"
    with pg.cursor() as cursor, cursor.copy(sql) as copy:
        for block in blocks:
            copy.write(block)


def _location(staging: Staging, default: str | None) -> str:
    """The row's location as Python picks it: location, else location_id, else the default."""
    picked = [c for c in (staging.columns["location"], staging.columns["location_id"]) if c]
    if default or not picked:
        picked.append("%(location)s::text")
    expr = f"COALESCE({', '.join(picked)})" if len(picked) > 1 else picked[0]
    return f"btrim({expr}, %(ws)s)" if staging.trim else expr


def count_groups(pg: Any, staging: Staging, default_location: str | None
                 ) -> list[tuple[str | None, str | None, int, int]]:
    """(location, as_of text, rows, rows whose on_hand text sorts after "0" byte-wise) for
    every pair in the file (the last: rows that would count a stocked position, see
    position_counts; a byte comparison costs far less than ascii() on 10M rows)."""
    as_of = staging.columns["as_of"] or "NULL::text"
    on_hand = staging.columns["on_hand"] or "NULL::text"
    sql = (f"SELECT {_location(staging, default_location)}, {as_of}, count(*),"
           f" count(*) FILTER (WHERE {on_hand} COLLATE \"C\" > '0')"
           f" FROM {staging.table} GROUP BY 1, 2")
    with pg.cursor() as cursor:
        cursor.execute(sql, {"ws": WHITESPACE, "location": default_location or None})
        return cursor.fetchall()


def read_differences(pg: Any, staging: Staging, *, locations: list[str] | None,
                     bad_times: list[str], default_location: str | None, has_default_time: bool,
                     rows: int, max_work_mem_mb: int = work_mem.DEFAULT_MAX_MB
                     ) -> tuple[list[RowDifference], int]:
    """The rows and positions Python must look at; how many positions the locations hold.

    ``locations`` limits the positions read (None: every location's, when the file names
    them all). ``rows`` (the staged rows) sizes the join's work_mem, at most
    ``max_work_mem_mb`` (store/work_mem.py).
    """
    params = {"ws": WHITESPACE, "location": default_location or None, "locs": locations,
              "bad": bad_times, "max": MAX_QUANTITY}
    sql = _differences_sql(staging, default_location, bool(bad_times), has_default_time,
                           locations is not None)
    with pg.cursor() as cursor:  # a one-batch hash join (256MB was 1M rows' before sizing)
        cursor.execute(work_mem.set_local_sql(work_mem.sized_mb(rows, 256, max_work_mem_mb)))
        found = cursor.execute(sql, params).fetchall()
    differences: list[RowDifference] = []
    positions = 0
    aware = _aware_times()
    for row in found:
        if row[0] == "P":
            positions = row[1]
            continue
        fields = {name: value for name, value in zip(FIELDS, row[2:8], strict=True)
                  if value not in (None, "")}
        position = None if row[10] is None else PositionRow(*row[10:16], aware(row[16]),
                                                             aware(row[17]))
        differences.append(RowDifference(row[1], fields, row[8], row[9], position))
    return differences, positions


def position_counts(groups: Iterable[tuple[str | None, str | None, int, int]],
                    differences: Iterable[RowDifference], positions: int
                    ) -> dict[str, tuple[int, int]] | None:
    """Per location (positions, stocked ones), from count_groups and read_differences.

    Every row left out of the differences joined an existing position of its location and
    its on_hand text is the stored count's digits (never negative: positive exactly when
    the text sorts after "0"); every other row and position is among the differences. So a
    location's positions are its rows less its differing rows plus the positions among the
    differences, and likewise for stocked ones. That holds when no position is joined by
    two rows: then these counts add up to the positions read; None when they add up to more.
    """
    rows: Counter[str] = Counter()
    stocked: Counter[str] = Counter()
    for location, _as_of, count, positive in groups:
        if location is not None:
            rows[location] += count
            stocked[location] += positive
    for item in differences:
        if item.line is not None and item.location_key is not None:
            rows[item.location_key] -= 1
            stocked[item.location_key] -= _positive_text(item.fields.get("on_hand"))
        if item.position is not None:
            rows[item.position.location_id] += 1
            stocked[item.position.location_id] += item.position.on_hand > 0
    if rows.total() != positions:
        return None
    return {location: (count, stocked[location]) for location, count in rows.items() if count}


def _positive_text(text: str | None) -> bool:
    """As count_groups' filter: the text sorts after "0" byte-wise (ASCII: as str does)."""
    return text is not None and text > "0"


def _well_formed(staging: Staging, loc: str, bad: bool, timed: bool) -> str:
    """SQL: sku, location and a count present, no adjust, a time that is not a bad one."""
    sku, as_of = staging.key("sku"), staging.columns["as_of"]
    blank = " AND {0} <> ''" if staging.trim else ""
    tests = [f"{sku} IS NOT NULL" + blank.format(sku), f"{loc} IS NOT NULL" + blank.format(loc),
             f"{staging.columns['on_hand'] or 'NULL::text'} IS NOT NULL"]
    if staging.columns["adjust"]:
        tests.append(f"{staging.columns['adjust']} IS NULL")
    if as_of is None and not timed:
        tests.append("false")
    elif as_of is not None and bad:
        tests.append(f"CASE WHEN {as_of} IS NULL THEN {timed} ELSE {as_of} <> ALL(%(bad)s) END")
    elif as_of is not None and not timed:
        tests.append(f"{as_of} IS NOT NULL")
    return " AND ".join(tests)


def _differences_sql(staging: Staging, default_location: str | None, bad: bool, timed: bool,
                     some_locations: bool) -> str:
    loc, sku = _location(staging, default_location), staging.key("sku")
    as_of = staging.columns["as_of"] or "NULL::text"
    fields = ", ".join(f"{staging.columns[f] or 'NULL::text'} AS f_{f}" for f in FIELDS)
    rows = (f"SELECT line, {fields}, {loc} AS loc, {as_of} AS as_of,"
            f" {staging.columns['on_hand'] or 'NULL::text'} AS count_text, {sku} AS sku,"
            f" CASE WHEN {_well_formed(staging, loc, bad, timed)} THEN {loc} END AS join_loc"
            f" FROM {staging.table}")
    where = " WHERE location_id = ANY(%(locs)s)" if some_locations else ""
    # last_shipped_at rides along in the hash (NULL, the usual value, takes no room in it):
    # looked up afterwards by id it was a separate read of every position (issue 18)
    positions = ("SELECT id, location_id, sku, on_hand, allocated, reserved, as_of,"
                 f" last_shipped_at FROM stock_positions{where}")
    return (
        f"SELECT 'R', r.line, {', '.join(f'r.f_{f}' for f in FIELDS)}, r.loc, r.as_of,"
        " p.id, p.location_id, p.sku, p.on_hand, p.allocated, p.reserved, p.as_of,"
        f" p.last_shipped_at FROM ({rows}) r FULL JOIN ({positions}) p"
        " ON p.location_id = r.join_loc AND p.sku = r.sku"
        " WHERE r.line IS NULL OR p.id IS NULL OR r.join_loc IS NULL"
        " OR p.on_hand::text <> r.count_text OR p.on_hand > %(max)s"
        " UNION ALL SELECT 'P', count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        f" NULL FROM stock_positions{where}")


def _aware_times() -> Callable[[datetime | None], datetime | None]:
    """Naive UTC times made aware, each distinct one once: a snapshot's differences share a
    few times, and `replace` per value was 0.7 us against 0.1 for a lookup (1M values at 10M
    positions, 5% changed)."""
    made: dict[datetime, datetime] = {}

    def aware(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        found = made.get(value)
        if found is None:
            found = made[value] = value.replace(tzinfo=UTC)
        return found

    return aware

