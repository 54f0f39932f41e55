"""order search and timeline indexes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:00:00

GET /v1/orders lists orders newest first (created_at DESC, id DESC) by any of its filters;
each is served by an index, so a page costs the same over a million orders:
- status and channel: ix_orders_channel_status_created (channel, status, created_at, id);
- status alone: ix_orders_status_created (status, created_at, id);
- no filter, or a time range alone: ix_orders_created (created_at, id);
- channel alone: the existing ix_orders_channel_created (channel, created_at);
- customer_id: ix_orders_customer_created (customer_id, created_at, id);
- order_ref without a channel: ix_orders_order_ref (with a channel: the unique
  channel_order_ref);
- sku: ix_order_lines_sku_order (sku, order_id), probed per candidate order;
- location: ix_fulfilments_location_order (location_id, order_id).
GET /v1/orders/{id}/events reads the outbox by ix_events_aggregate (aggregate_type,
aggregate_id, id).

Plain CREATE INDEX: on PostgreSQL each locks its table against writes while it builds
(seconds per million rows); upgrade when orders can wait that long, or build them first by
hand with CREATE INDEX CONCURRENTLY under the same names (this migration then finds them
and only records the version).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_orders_channel_status_created", "orders", ["channel", "status", "created_at", "id"]),
    ("ix_orders_status_created", "orders", ["status", "created_at", "id"]),
    ("ix_orders_created", "orders", ["created_at", "id"]),
    ("ix_orders_customer_created", "orders", ["customer_id", "created_at", "id"]),
    ("ix_orders_order_ref", "orders", ["order_ref"]),
    ("ix_order_lines_sku_order", "order_lines", ["sku", "order_id"]),
    ("ix_fulfilments_location_order", "fulfilments", ["location_id", "order_id"]),
    ("ix_events_aggregate", "events", ["aggregate_type", "aggregate_id", "id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
