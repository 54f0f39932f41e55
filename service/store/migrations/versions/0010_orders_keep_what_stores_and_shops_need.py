"""orders keep what stores and shops need: one order per order_ref, why and how it was
cancelled, when a fulfilment was delivered; money and units that fit what the API accepts

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-08 09:00:00

- `orders.order_ref` is unique per channel (`channel_order_ref`). Orders placed twice with
  one reference before this release stop the upgrade, each listed: keep one order per
  reference (give the others another `order_ref`, or none) and upgrade again.
- `orders.cancel_reason` (the latest reason a cancel gave) and `orders.on_short` (what the
  order does when stock is short; NULL for orders placed before it existed).
- `fulfilments.delivered_at`.
- `settlement_records.amount` NUMERIC(14,2) -> NUMERIC(18,2): a line's largest amount
  (9,999,999,999.99 x 100,000 units) did not fit, so cancelling or shipping it failed.
- `channel_availability.available` INTEGER -> BIGINT: a SKU's units summed over every location
  may pass 2^31.

The previous release runs against it (it neither reads nor writes the new columns), but an
order it places with a reference already used is a 500 rather than a second order. On
PostgreSQL the two widened columns rewrite `settlement_records` and `channel_availability`
under an exclusive lock: upgrade when writes can wait that long.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUPLICATES = sa.text(
    "SELECT channel, order_ref, COUNT(*) AS n FROM orders WHERE order_ref IS NOT NULL"
    " GROUP BY channel, order_ref HAVING COUNT(*) > 1 ORDER BY channel, order_ref")
_SHOWN = 20


def upgrade() -> None:
    _refuse_duplicate_refs()
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("on_short", sa.String(length=16), nullable=True))
        batch.create_unique_constraint("channel_order_ref", ["channel", "order_ref"])
    with op.batch_alter_table("fulfilments") as batch:
        batch.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("settlement_records") as batch:
        batch.alter_column("amount", type_=sa.Numeric(18, 2),
                           existing_type=sa.Numeric(14, 2), existing_nullable=False)
    with op.batch_alter_table("channel_availability") as batch:
        batch.alter_column("available", type_=sa.BigInteger(), existing_type=sa.Integer(),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_availability") as batch:
        batch.alter_column("available", type_=sa.Integer(), existing_type=sa.BigInteger(),
                           existing_nullable=False)
    with op.batch_alter_table("settlement_records") as batch:
        batch.alter_column("amount", type_=sa.Numeric(14, 2),
                           existing_type=sa.Numeric(18, 2), existing_nullable=False)
    with op.batch_alter_table("fulfilments") as batch:
        batch.drop_column("delivered_at")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("channel_order_ref", type_="unique")
        batch.drop_column("on_short")
        batch.drop_column("cancel_reason")


def _refuse_duplicate_refs() -> None:
    """Stop, naming them, when one channel's order_ref already names several orders."""
    found = op.get_bind().execute(_DUPLICATES).all()
    if not found:
        return
    listed = "; ".join(f"channel {c!r} order_ref {r!r}: {n} orders" for c, r, n in found[:_SHOWN])
    more = f" (and {len(found) - _SHOWN} more)" if len(found) > _SHOWN else ""
    raise RuntimeError(
        f"orders.order_ref becomes unique per channel, but {len(found)} reference(s) name "
        f"several orders: {listed}{more}. Keep one order per reference (give the others "
        "another order_ref, or none), then run `oms db upgrade` again; nothing was changed.")
