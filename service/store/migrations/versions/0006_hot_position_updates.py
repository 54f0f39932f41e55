"""stock positions: count and allocation updates stay on their page (HOT) on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 09:20:00

The sourcing index keeps (sku, location_id) and the id, no longer the counts: an update of
on_hand, allocated or reserved then changes no indexed column, and with 10% of each page
left free (fillfactor 90) PostgreSQL writes it as a heap-only tuple, with no new entry in
any of the table's three indexes. Snapshots rewrite tens of thousands of counts and every
order changes `allocated`; the sourcing read fetches its few dozen rows from the heap.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_positions_sku")
        batch_op.create_index("ix_stock_positions_sku", ["sku", "location_id"], unique=False,
                              postgresql_include=["id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stock_positions SET (fillfactor = 90)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stock_positions RESET (fillfactor)")
    with op.batch_alter_table("stock_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_positions_sku")
        batch_op.create_index("ix_stock_positions_sku", ["sku", "location_id"], unique=False,
                              postgresql_include=["id", "on_hand", "allocated", "reserved"])
