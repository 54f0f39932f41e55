"""covering index on stock_positions.sku for sourcing reads (PostgreSQL INCLUDE)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = ["location_id", "on_hand", "allocated", "reserved"]


def upgrade() -> None:
    with op.batch_alter_table("stock_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_positions_sku")
        batch_op.create_index("ix_stock_positions_sku", ["sku"], unique=False,
                              postgresql_include=COVERED)


def downgrade() -> None:
    with op.batch_alter_table("stock_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_positions_sku")
        batch_op.create_index("ix_stock_positions_sku", ["sku"], unique=False)
