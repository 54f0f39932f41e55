"""Fewer index entries for every order: two unused indexes go, three skip NULLs

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 21:40:00

Each new order wrote about 60 index entries (orders, its lines, fulfilments, events and the
journal); nine of them served no query:
- `ix_events_pending` (delivered_at, next_attempt_at) has had no reader since 0018: the
  webhook router reads its queue by `ix_events_unrouted` (id where delivered_at is null) and
  retries live on `webhook_deliveries`. Dropped (three entries an order: one per event).
- `ix_order_lines_order_id` (order_id) repeats the first column of the unique
  `order_line_no` (order_id, line_no), which serves every read of an order's lines.
  Dropped (one entry per line).
- `ix_orders_customer_created`, `ix_orders_order_ref` and `ix_orders_experiment_variant`
  serve searches by equality on a column many orders leave empty (guest checkouts, orders
  without a reference, orders no experiment decided). An equality never matches NULL, so
  they are rebuilt as partial indexes (`WHERE <column> IS NOT NULL`): PostgreSQL and SQLite
  both use a partial index when the query's `column = value` implies its predicate, and
  an order without the column writes no entry to it.

Plain DROP INDEX and CREATE INDEX: on PostgreSQL each rebuilt index locks orders against
writes while it builds (seconds per million orders; on the partitioned orders table one
build per partition). Downgrade restores the 0036 indexes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNUSED = [("ix_events_pending", "events", ["delivered_at", "next_attempt_at"]),
          ("ix_order_lines_order_id", "order_lines", ["order_id"])]
# (index, its columns, the column whose NULL it skips)
SPARSE = [("ix_orders_customer_created", ["customer_id", "created_at", "id"], "customer_id"),
          ("ix_orders_order_ref", ["order_ref"], "order_ref"),
          ("ix_orders_experiment_variant", ["experiment", "variant"], "experiment")]


def upgrade() -> None:
    for name, table, _columns in UNUSED:
        op.drop_index(name, table_name=table)
    for name, columns, column in SPARSE:
        op.drop_index(name, table_name="orders")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "orders", columns, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, columns, _column in reversed(SPARSE):
        op.drop_index(name, table_name="orders")
        op.create_index(name, "orders", columns)
    for name, table, columns in reversed(UNUSED):
        op.create_index(name, table, columns)
