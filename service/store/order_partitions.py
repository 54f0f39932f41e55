"""PostgreSQL: `orders` is range-partitioned by id, one partition per calendar month (UTC).

Order ids are time-ordered (`domain.ids.time_ordered_id`: the first 12 hex digits are the
milliseconds of their creation), so the month of an order is a range of ids:
`orders_p2026_12` holds the ids from `id_prefix(2026-12-01)` to `id_prefix(2027-01-01)`.
`orders.id` stays the primary key and every foreign key to it keeps working. Ids made before
migration 0027 are random: those from "1" up live in `orders_legacy` (time-ordered ids start
with "0" until the year 2527), the rest, and any order of a month without its partition, in
`orders_default`, so an insert never fails.

`ensure_order_partitions` creates the months ahead (the partition manager's job calls it;
runs at once, such as `oms db partitions --maintain` beside a scheduler, take turns). A
month whose ids some row of `orders_default` already holds (a random legacy id, or an order
placed before its month existed) is carved around those rows: `orders_p2031_05` up to the
first of them, `orders_p2031_05_1` from just after it, and so on; the rows stay where they are.
Creating a partition scans `orders_default` (kept small) under a brief exclusive lock.

SQLite has one `orders` table: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from service.domain.ids import id_prefix

LEGACY_FROM = "1"  # random ids from here up: every time-ordered id sorts below it
MONTHS_AHEAD = 3
ID_LENGTH = 32  # orders.id is a VARCHAR(32)


def ensure_order_partitions(connection: Connection, now: datetime,
                            months_ahead: int = MONTHS_AHEAD, months_back: int = 0
                            ) -> list[str]:
    """Create the missing monthly partitions of `orders` from `months_back` months before
    `now`'s month to `months_ahead` after it (PostgreSQL; SQLite: nothing). Returns the
    partitions created (carved months give several)."""
    if connection.dialect.name != "postgresql" or not is_partitioned(connection):
        return []
    missing = [start for start in months(now, -months_back, months_ahead)
               if not _exists(connection, start)]
    if not missing:
        return []
    # Creators take turns (this lock conflicts with itself; reads and writes go on), and look
    # again under it: a month another run created meanwhile is not created twice.
    connection.execute(text("LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE"))
    created: list[str] = []
    for start in missing:
        if not _exists(connection, start):
            created += _create_month(connection, start)
    return created


def _exists(connection: Connection, start: datetime) -> bool:
    return connection.scalar(text("SELECT to_regclass(:name)"),
                             {"name": partition_name(start)}) is not None


def is_partitioned(connection: Connection) -> bool:
    """Whether `orders` is a partitioned table here (PostgreSQL after migration 0027)."""
    return connection.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = "
        "to_regclass('orders'))")) is True


def months(now: datetime, first: int, last: int) -> Iterator[datetime]:
    """The first instants (UTC) of the months `first`..`last` relative to `now`'s month."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    index = now.year * 12 + now.month - 1
    for i in range(index + first, index + last + 1):
        yield datetime(i // 12, i % 12 + 1, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return next(iter(months(start, 1, 1)))


def partition_name(start: datetime) -> str:
    return f"orders_p{start.year:04d}_{start.month:02d}"


def month_bounds(start: datetime) -> tuple[str, str]:
    """The ids of the month starting at `start`: [low, high)."""
    return id_prefix(start), id_prefix(next_month(start))


def _create_month(connection: Connection, start: datetime) -> list[str]:
    low, high = month_bounds(start)
    stuck = connection.scalars(text(
        "SELECT id FROM orders_default WHERE id >= :low AND id < :high ORDER BY id"),
        {"low": low, "high": high}).all()
    edges = [low, *(edge for s in stuck for edge in (s, _successor(s))), high]
    names: list[str] = []
    for lower, upper in zip(edges[::2], edges[1::2], strict=True):
        if lower >= upper:
            continue
        name = partition_name(start) + (f"_{len(names)}" if names else "")
        connection.execute(text(
            f"CREATE TABLE {name} PARTITION OF orders FOR VALUES FROM ({_literal(lower)}) "
            f"TO ({_literal(upper)})"))
        names.append(name)
    return names


def _successor(value: str) -> str:
    """The least id sorting after `value` (ids are at most 32 characters, compared byte by
    byte as the C collation does): a range starting there leaves out exactly `value`."""
    if len(value) < ID_LENGTH:
        return value + "\x01"
    return value[:-1] + chr(ord(value[-1]) + 1)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
