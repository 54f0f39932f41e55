"""sourcing reads by (sku, location): the covering index keys both and includes the id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_positions_sku")
        batch_op.create_index("ix_stock_positions_sku", ["sku", "location_id"], unique=False,
                              postgresql_include=["id", "on_hand", "allocated", "reserved"])


def downgrade() -> None:
    with op.batch_alter_table("stock_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_positions_sku")
        batch_op.create_index("ix_stock_positions_sku", ["sku"], unique=False,
                              postgresql_include=["location_id", "on_hand", "allocated",
                                                  "reserved"])
