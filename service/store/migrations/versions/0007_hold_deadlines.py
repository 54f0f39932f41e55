"""hold deadlines: when each SKU's next active hold falls due

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:50:00

Availability lookups used to look for overdue holds with a second query over reservations in
every read (a third of the lookup's database time). The earliest expiry of a SKU's active
holds is now kept in one row per SKU, read beside the figures, and moved by the writers of
holds: created with the hold, moved on (or removed) by each expiry pass of the SKU.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hold_deadlines",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sku"], ["products.sku"],
                                name=op.f("fk_hold_deadlines_sku_products")),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_hold_deadlines")),
    )
    op.execute("INSERT INTO hold_deadlines (sku, due_at) SELECT sku, min(expires_at)"
               " FROM reservations WHERE status = 'active' GROUP BY sku")


def downgrade() -> None:
    op.drop_table("hold_deadlines")
