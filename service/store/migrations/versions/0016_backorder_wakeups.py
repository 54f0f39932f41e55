"""backorder wakeups: the SKUs whose stock rose while some order waited for them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:00:00

One new table, `backorder_wakeups` (append-only: an id, a SKU, when): a transaction that
raises a channel's ATS of a SKU some order has backordered adds a row; the scheduler's
`orders.backorders` job takes the rows and releases those SKUs' backorders. And one partial
index, `ix_order_lines_backordered` (order_lines.sku where quantity_backordered > 0): the
lines waiting for stock, small however many orders there are, read by that insert and by
the job (oldest order first). No existing table changes; the previous release runs against
it unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WAITING = sa.text("quantity_backordered > 0")


def upgrade() -> None:
    op.create_table(
        "backorder_wakeups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backorder_wakeups")),
    )
    op.create_index("ix_order_lines_backordered", "order_lines", ["sku", "order_id"],
                    postgresql_where=_WAITING, sqlite_where=_WAITING)


def downgrade() -> None:
    op.drop_index("ix_order_lines_backordered", table_name="order_lines")
    op.drop_table("backorder_wakeups")
