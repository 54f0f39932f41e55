"""Native PostgreSQL range partitions by time: which tables, their partitions, creating the
periods ahead and retiring the old ones (SQLite: no partitions; `supported` says so).

A partitioned table has a DEFAULT partition (migration 0026), so an insert never fails for
want of a partition; rows a new partition's range takes from DEFAULT move into it in the
transaction that attaches it. Partitions are made beside the table (`CREATE TABLE ... LIKE`)
and then attached: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, which lets inserts and
reads go on (CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE).

Retiring a partition: a look without locks first (`still_needed`); if nothing in it is needed
any more, the parent is locked ACCESS EXCLUSIVE (lock_timeout: a busy table is retried on the
next run rather than queueing writers behind the lock), the look is repeated under the lock
(nothing can add a delivery or change an export mark meanwhile), the rows that depend on it go
(`before_drop`), and the partition is detached and dropped, all in one transaction.

To partition another table (orders, migration 0027): add one `PartitionedTable` to `TABLES`;
`retention_key=None` keeps its partitions forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from service.domain.partitions import Partition, default_name, gaps, partition_name

LOCK_TIMEOUT = "5s"  # how long a retirement waits for the parent's lock before giving up


@dataclass(frozen=True)
class PartitionedTable:
    """A table range-partitioned by a time column, and when a partition of it may go."""

    name: str
    column: str
    retention_key: str | None = None  # the `partitions` config key with its retention days
    still_needed: str | None = None  # SQL, {p} the partition: true while a row is needed
    before_drop: tuple[str, ...] = ()  # SQL, {p} the partition: rows that go with it


EVENTS = PartitionedTable(
    "events", "created_at", "events_retention_days",
    # not yet routed to webhook deliveries, or some delivery of it not finished
    still_needed=("SELECT EXISTS (SELECT 1 FROM {p} WHERE delivered_at IS NULL)"
                  " OR EXISTS (SELECT 1 FROM webhook_deliveries d JOIN {p} e"
                  " ON e.id = d.event_id WHERE d.status NOT IN ('delivered', 'dead'))"),
    before_drop=("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM"
                 " webhook_deliveries d JOIN {p} e ON e.id = d.event_id)",
                 "DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM {p})"),
)
INVENTORY_JOURNAL = PartitionedTable("inventory_journal", "at", "journal_retention_days")
SETTLEMENT_RECORDS = PartitionedTable(
    "settlement_records", "created_at", "settlements_retention_days",
    still_needed="SELECT EXISTS (SELECT 1 FROM {p} WHERE exported_at IS NULL)",
)
# the orders hook: PartitionedTable("orders", "created_at") (kept forever) goes here
TABLES: tuple[PartitionedTable, ...] = (EVENTS, INVENTORY_JOURNAL, SETTLEMENT_RECORDS)

_BOUND = re.compile(r"FROM \((.+)\) TO \((.+)\)")


def supported(engine: Engine) -> bool:
    """Whether this database partitions tables (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


def partitioned_tables(engine: Engine) -> list[PartitionedTable]:
    """The tables of `TABLES` this database has partitioned (none on SQLite)."""
    if not supported(engine):
        return []
    with engine.connect() as conn:
        return [table for table in TABLES if is_partitioned(conn, table.name)]


def partitions_of(engine: Engine, table: str) -> list[Partition]:
    """The partitions of `table`, oldest first, DEFAULT last."""
    with engine.connect() as conn:
        return listed(conn, table)


def described(engine: Engine) -> list[dict[str, object]]:
    """Every partition of every partitioned table: bounds and the planner's row estimate."""
    found: list[dict[str, object]] = []
    with engine.connect() as conn:
        for table in partitioned_tables(engine):
            parts = listed(conn, table.name)
            rows = estimated_rows(conn, [p.name for p in parts])
            found += [{"table": table.name, "partition": p.name, "from": p.start, "to": p.end,
                       "rows": rows.get(p.name, -1)} for p in parts]
    return found


def is_partitioned(conn: Connection, table: str) -> bool:
    """Whether `table` (on the search path) is a partitioned table."""
    return conn.scalar(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"),
                       {"t": table}) == "p"


def listed(conn: Connection, table: str) -> list[Partition]:
    """The partitions of `table`, oldest first, DEFAULT last."""
    rows = conn.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"), {"t": table})
    # a partition another transaction is detaching right now may show no bound: it is going
    found = [_partition(name, bound) for name, bound in rows if bound is not None]
    return sorted(found, key=lambda p: (p.is_default, p.start or datetime.min))


def estimated_rows(conn: Connection, names: list[str]) -> dict[str, int]:
    """The planner's row estimate of each table named (-1: never analysed)."""
    if not names:
        return {}
    rows = conn.execute(text(
        "SELECT relname, reltuples::bigint FROM pg_class WHERE oid IN"
        " (SELECT to_regclass(n) FROM unnest(CAST(:names AS text[])) n)"), {"names": names})
    return {name: int(count) for name, count in rows}


def _partition(name: str, bound: str) -> Partition:
    match = _BOUND.search(bound)
    if match is None:  # DEFAULT
        return Partition(name, None, None)
    return Partition(name, _bound_time(match.group(1), datetime.min),
                     _bound_time(match.group(2), datetime.max))


def _bound_time(literal: str, unbounded: datetime) -> datetime:
    if literal in ("MINVALUE", "MAXVALUE"):
        return unbounded
    return datetime.fromisoformat(literal.strip("'"))


def create_ahead(engine: Engine, table: PartitionedTable,
                 periods: list[tuple[datetime, datetime]]) -> list[str]:
    """Create the partitions these periods need and no partition covers yet; their names.
    Creators take turns on the parent's SHARE UPDATE EXCLUSIVE lock (writers go on); ATTACH
    also locks DEFAULT exclusively, so a lock not had within LOCK_TIMEOUT creates nothing
    this time (the periods ahead leave the next runs time to)."""
    try:
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            conn.execute(text(f"LOCK TABLE {_q(conn, table.name)}"
                              " IN SHARE UPDATE EXCLUSIVE MODE"))
            existing = listed(conn, table.name)
            has_default = any(p.is_default for p in existing)
            return [_create(conn, table, start, end, has_default)
                    for start, end in gaps(periods, existing)]
    except OperationalError as exc:
        if _lock_not_available(exc):
            return []
        raise


def _create(conn: Connection, table: PartitionedTable, start: datetime, end: datetime,
            has_default: bool) -> str:
    name = partition_name(table.name, start)
    parent, new, column = _q(conn, table.name), _q(conn, name), _q(conn, table.column)
    conn.execute(text(f"CREATE TABLE {new} (LIKE {parent} INCLUDING DEFAULTS"
                      " INCLUDING CONSTRAINTS)"))
    if has_default:  # rows of this period written before it had a partition move into it
        conn.execute(text(
            f"WITH moved AS (DELETE FROM {_q(conn, default_name(table.name))}"
            f" WHERE {column} >= :start AND {column} < :end RETURNING *)"
            f" INSERT INTO {new} SELECT * FROM moved"), {"start": start, "end": end})
    conn.execute(text(f"ALTER TABLE {parent} ATTACH PARTITION {new}"
                      f" FOR VALUES FROM ('{start.isoformat(' ')}') TO ('{end.isoformat(' ')}')"))
    return name


def needed(engine: Engine, table: PartitionedTable, partition: Partition) -> bool:
    """Whether some row of the partition is still needed (a look without locks; a partition
    another run dropped meanwhile is not: `retire` then finds it gone)."""
    if table.still_needed is None:
        return False
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text(table.still_needed.format(p=_q(conn, partition.name)))))
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42P01":  # undefined_table
            return False
        raise


def retire(engine: Engine, table: PartitionedTable, partition: Partition) -> str:
    """Detach and drop the partition unless a row of it is still needed: "retired", "kept",
    "gone" (another run retired it) or "busy" (the parent stayed locked past LOCK_TIMEOUT)."""
    try:
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            parent = _q(conn, table.name)
            conn.execute(text(f"LOCK TABLE {parent} IN ACCESS EXCLUSIVE MODE"))
            if partition.name not in {p.name for p in listed(conn, table.name)}:
                return "gone"
            p = _q(conn, partition.name)
            if table.still_needed and conn.scalar(text(table.still_needed.format(p=p))):
                return "kept"
            for statement in table.before_drop:
                conn.execute(text(statement.format(p=p)))
            conn.execute(text(f"ALTER TABLE {parent} DETACH PARTITION {p}"))
            conn.execute(text(f"DROP TABLE {p}"))
            return "retired"
    except OperationalError as exc:
        if _lock_not_available(exc):
            return "busy"
        raise


def _lock_not_available(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "55P03"


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)
