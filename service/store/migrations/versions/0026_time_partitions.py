"""time partitions: events, inventory_journal and settlement_records by month (PostgreSQL)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 14:00:00

PostgreSQL: the three tables that grow forever become native range-partitioned tables on
their time column (`events.created_at`, `inventory_journal.at`,
`settlement_records.created_at`), one partition per calendar month from the oldest row's month
to two months ahead, plus a DEFAULT partition (an insert never fails for want of a partition;
the `partitions.maintain` job creates the months ahead and moves any row DEFAULT holds for
them). Tuple routing happens in the executor: no trigger on the insert path.

Each table is rebuilt: renamed aside, a partitioned table `LIKE` it (columns, defaults, NOT
NULL and CHECK constraints) made under its name, every row copied with its id, the id
sequence handed over (ids keep increasing from where they were), the old table dropped, and
its indexes (b-tree, partial, BRIN) and foreign keys recreated on the partitioned table (on
every partition). The primary key becomes (id, time column): a unique constraint on a
partitioned table must include the partition key. Ids stay unique (one sequence hands them
out, nothing writes an id of its own) and increasing; readers look rows up by id as before.

`webhook_deliveries.event_id` loses its foreign key to `events.id` (on both databases, so the
schema matches the models): a foreign key needs a unique constraint on id alone, which a
partitioned table cannot have. What it guaranteed still holds: the router writes a delivery
only for an event it read in the same transaction, and retiring an events partition deletes
its events' deliveries and attempts in the transaction that drops it (store/partitions.py).
The NOTIFY trigger on events (0018) is recreated on the partitioned table.

SQLite: the three tables are unchanged (no partitions); only the foreign key above goes.
Downgrade rebuilds plain tables the same way (every row, ids, sequences, indexes, the foreign
key and the trigger).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"events": "created_at", "inventory_journal": "at", "settlement_records": "created_at"}
MONTHS_AHEAD = 2
DELIVERY_EVENT_FK = "fk_webhook_deliveries_event_id_events"

NOTIFY_TRIGGER = ("CREATE TRIGGER events_notify AFTER INSERT ON events"
                  " FOR EACH STATEMENT EXECUTE FUNCTION oms_events_notify()")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        with op.batch_alter_table("webhook_deliveries") as batch:
            batch.drop_constraint(DELIVERY_EVENT_FK, type_="foreignkey")
        return
    op.drop_constraint(DELIVERY_EVENT_FK, "webhook_deliveries", type_="foreignkey")
    for table, column in TABLES.items():
        _rebuild(bind, table, f"PARTITION BY RANGE ({column})", primary_key=f"id, {column}",
                 fill=lambda t, c=column: _create_partitions(bind, t, c))
    op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        with op.batch_alter_table("webhook_deliveries") as batch:
            batch.create_foreign_key(DELIVERY_EVENT_FK, "events", ["event_id"], ["id"])
        return
    for table in TABLES:
        _rebuild(bind, table, "", primary_key="id", fill=lambda t: None)
    op.execute(NOTIFY_TRIGGER)
    op.create_foreign_key(DELIVERY_EVENT_FK, "webhook_deliveries", "events", ["event_id"], ["id"])


def _rebuild(bind: sa.Connection, table: str, partitioning: str, primary_key: str,
             fill: Callable[[str], None]) -> None:
    """Rebuild `table` as a new table (partitioned or not) with every row, id and index."""
    aside = f"{table}_before_0026"
    op.execute(f"ALTER TABLE {table} RENAME TO {aside}")
    indexes = _index_definitions(bind, aside, table)
    foreign_keys = _foreign_keys(bind, aside)
    sequence = bind.scalar(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": aside})
    op.execute(f"CREATE TABLE {table} (LIKE {aside} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
               f" {partitioning}")
    fill(table)
    op.execute(f"INSERT INTO {table} SELECT * FROM {aside} ORDER BY id")
    op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id")
    op.execute(f"DROP TABLE {aside}")  # its indexes go with it, freeing their names
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({primary_key})")
    for definition in indexes:
        op.execute(definition)
    for name, definition in foreign_keys:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _index_definitions(bind: sa.Connection, aside: str, table: str) -> list[str]:
    """CREATE INDEX statements of the table's indexes (not its primary key), naming `table`."""
    rows = bind.execute(sa.text(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename = :t AND indexname <> :pk ORDER BY indexname"),
        {"t": aside, "pk": f"pk_{table}"})
    return [_retarget(definition, aside, table) for (definition,) in rows]


def _retarget(definition: str, aside: str, table: str) -> str:
    """`CREATE INDEX ix ON schema.aside USING ...` -> `... ON table USING ...`."""
    head, _, rest = definition.partition(" ON ")
    target, _, tail = rest.partition(" USING ")
    assert target.split(".")[-1].strip('"') == aside, definition
    return f"{head} ON {table} USING {tail}"


def _foreign_keys(bind: sa.Connection, table: str) -> list[tuple[str, str]]:
    rows = bind.execute(sa.text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = to_regclass(:t) AND contype = 'f' AND conparentid = 0"  # not the copies
        " ORDER BY conname"), {"t": table})  # a partitioned orders gives each of its partitions
    return [(name, definition) for name, definition in rows]


def _create_partitions(bind: sa.Connection, table: str, column: str) -> None:
    """A DEFAULT partition and one per month from the oldest row's to MONTHS_AHEAD ahead."""
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    oldest = bind.scalar(sa.text(f"SELECT min({column}) FROM {table}_before_0026"))
    now = datetime.now(UTC).replace(tzinfo=None)
    start = _month(oldest or now)
    last = _month(now)
    for _ in range(MONTHS_AHEAD):
        last = _next_month(last)
    while start <= last:
        end = _next_month(start)
        op.execute(f"CREATE TABLE {table}_p{start:%Y%m%d} PARTITION OF {table}"
                   f" FOR VALUES FROM ('{start:%Y-%m-%d}') TO ('{end:%Y-%m-%d}')")
        start = end


def _month(at: datetime) -> datetime:
    return datetime(at.year, at.month, 1)


def _next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
