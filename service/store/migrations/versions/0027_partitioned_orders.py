"""orders partitioned by month on PostgreSQL (range on the time-ordered id); order_keys

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-06 14:00:00

Orders grow forever; on PostgreSQL `orders` becomes a natively RANGE-partitioned table, one
partition per calendar month, keeping every row, every index name and every foreign key.

The design: the partition key is `orders.id` itself. New order ids are time-ordered
(`domain.ids.time_ordered_id`, UUIDv7-like: the first 12 of the 32 hex digits are the
millisecond of creation), so a month is a range of ids (`store/order_partitions.py`). A
partitioned table's primary key must include the partition key: `id` alone still is the
primary key, so order_lines, fulfilments, settlement_records and returns keep their foreign
keys to `orders.id` unchanged, and reading an order by id touches one partition. The
alternative, partitioning by created_at, would make the key (id, created_at) and every
foreign key would have to carry created_at or go.

- Monthly partitions `orders_pYYYY_MM` from last month to 3 months ahead; the scheduler
  creates later ones (`ensure_order_partitions`), the bench creates past ones for history.
- `orders_legacy` holds ids from "1" up (random ids made before this migration; every
  time-ordered id starts with "0" until the year 2527) and `orders_default` the rest, so an
  insert never fails, whatever its id.
- The unique constraints (channel, idempotency_key) and (channel, order_ref) cannot be
  constraints of the partitioned table (they lack `id`): they move to the small side table
  `order_keys` (order_id, channel, idempotency_key, order_ref), written in the one statement
  that inserts the order (store/orders_pg.py), so a retried or concurrent second order with
  the same key is refused exactly as before. Existing keys are copied. Retention deletes a
  month's keys by the month's id range (order_keys' primary key).
- The search indexes of 0014 are recreated on the partitioned table under their names.

SQLite: `orders` is unchanged (its unique constraints stay); `order_keys` is created, empty.

The copy rewrites the table under an exclusive lock: minutes per ten million orders. Downgrade
copies the rows back into a plain table.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from service.store.order_partitions import LEGACY_FROM, ensure_order_partitions

revision: str = "0027"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_orders_channel_created", ["channel", "created_at"]),
    ("ix_orders_channel_status_created", ["channel", "status", "created_at", "id"]),
    ("ix_orders_status_created", ["status", "created_at", "id"]),
    ("ix_orders_created", ["created_at", "id"]),
    ("ix_orders_customer_created", ["customer_id", "created_at", "id"]),
    ("ix_orders_order_ref", ["order_ref"]),
    ("ix_orders_experiment_variant", ["experiment", "variant"]),
]
UNIQUES = [("channel_idempotency_key", ["channel", "idempotency_key"]),
           ("channel_order_ref", ["channel", "order_ref"])]


def upgrade() -> None:
    op.create_table(
        "order_keys",
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("order_ref", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_keys")),
        sa.UniqueConstraint("channel", "idempotency_key",
                            name="order_keys_channel_idempotency_key"),
        sa.UniqueConstraint("channel", "order_ref", name="order_keys_channel_order_ref"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    references = _foreign_keys_to_orders()
    for table, name, _definition in references:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    op.execute("CREATE TABLE orders_partitioned (LIKE orders INCLUDING DEFAULTS "
               "INCLUDING CONSTRAINTS) PARTITION BY RANGE (id)")
    op.execute("ALTER TABLE orders RENAME TO orders_unpartitioned")
    op.execute("ALTER TABLE orders_partitioned RENAME TO orders")
    op.execute("CREATE TABLE orders_default PARTITION OF orders DEFAULT")
    op.execute(f"CREATE TABLE orders_legacy PARTITION OF orders FOR VALUES FROM "
               f"('{LEGACY_FROM}') TO (MAXVALUE)")
    ensure_order_partitions(op.get_bind(), datetime.now(UTC), months_back=1)
    op.execute("INSERT INTO orders SELECT * FROM orders_unpartitioned")
    op.execute("INSERT INTO order_keys (order_id, channel, idempotency_key, order_ref) "
               "SELECT id, channel, idempotency_key, order_ref FROM orders "
               "WHERE idempotency_key IS NOT NULL OR order_ref IS NOT NULL")
    op.execute("DROP TABLE orders_unpartitioned")
    _keys_and_indexes()
    for table, name, definition in references:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    op.execute("ANALYZE orders")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        references = _foreign_keys_to_orders()
        for table, name, _definition in references:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        op.execute("ALTER TABLE orders RENAME TO orders_partitioned")
        op.execute("CREATE TABLE orders (LIKE orders_partitioned INCLUDING DEFAULTS "
                   "INCLUDING CONSTRAINTS)")
        op.execute("INSERT INTO orders SELECT * FROM orders_partitioned")
        op.execute("DROP TABLE orders_partitioned CASCADE")
        _keys_and_indexes()
        for name, columns in UNIQUES:
            op.create_unique_constraint(name, "orders", columns)
        for table, name, definition in references:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    op.drop_table("order_keys")


def _foreign_keys_to_orders() -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of every foreign key that points at orders."""
    rows = op.get_bind().execute(sa.text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND confrelid = 'orders'::regclass "
        "ORDER BY 1, 2"))
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _keys_and_indexes() -> None:
    """The primary key, the pickup location's foreign key and the search indexes."""
    op.create_primary_key("pk_orders", "orders", ["id"])
    op.create_foreign_key("fk_orders_pickup_location_id_locations", "orders", "locations",
                          ["pickup_location_id"], ["id"])
    for name, columns in INDEXES:
        op.create_index(name, "orders", columns)
