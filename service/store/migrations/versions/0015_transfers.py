"""transfers: units moved from one location to another, and their lines

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 08:30:00

Two new tables (no existing table changes): `transfers` (source, destination, status,
the Idempotency-Key of the key that asked) and `transfer_lines` (per SKU: units asked,
shipped, received, missing, cancelled). Indexes: a location's transfers by status, from
and to it (the units in transit to a location, read by availability detail), and a SKU's
transfer lines. The previous release runs against it unchanged (it never reads them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "('created', 'shipped', 'partially_received', 'received', 'closed', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("from_location_id", sa.String(length=64), nullable=False),
        sa.Column("to_location_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("tracking", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(f"status IN {_STATUSES}", name=op.f("ck_transfers_status_known")),
        sa.CheckConstraint("from_location_id <> to_location_id",
                           name=op.f("ck_transfers_two_locations")),
        sa.ForeignKeyConstraint(["from_location_id"], ["locations.id"],
                                name=op.f("fk_transfers_from_location_id_locations")),
        sa.ForeignKeyConstraint(["to_location_id"], ["locations.id"],
                                name=op.f("fk_transfers_to_location_id_locations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("requested_by", "idempotency_key", name="transfer_idempotency_key"),
    )
    op.create_index("ix_transfers_from_status", "transfers", ["from_location_id", "status"])
    op.create_index("ix_transfers_to_status", "transfers", ["to_location_id", "status"])
    op.create_table(
        "transfer_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("quantity_shipped", sa.Integer(), nullable=False),
        sa.Column("quantity_received", sa.Integer(), nullable=False),
        sa.Column("quantity_missing", sa.Integer(), nullable=False),
        sa.Column("quantity_cancelled", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_transfer_lines_quantity_positive")),
        sa.CheckConstraint("quantity_shipped >= 0 AND quantity_cancelled >= 0"
                           " AND quantity_shipped + quantity_cancelled <= quantity",
                           name=op.f("ck_transfer_lines_shipped_within_quantity")),
        sa.CheckConstraint("quantity_received >= 0 AND quantity_missing >= 0"
                           " AND quantity_received + quantity_missing <= quantity_shipped",
                           name=op.f("ck_transfer_lines_received_within_shipped")),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfers.id"],
                                name=op.f("fk_transfer_lines_transfer_id_transfers")),
        sa.ForeignKeyConstraint(["sku"], ["products.sku"],
                                name=op.f("fk_transfer_lines_sku_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_lines")),
        sa.UniqueConstraint("transfer_id", "sku", name="transfer_line_sku"),
    )
    op.create_index("ix_transfer_lines_sku", "transfer_lines", ["sku", "transfer_id"])


def downgrade() -> None:
    op.drop_index("ix_transfer_lines_sku", table_name="transfer_lines")
    op.drop_table("transfer_lines")
    op.drop_index("ix_transfers_to_status", table_name="transfers")
    op.drop_index("ix_transfers_from_status", table_name="transfers")
    op.drop_table("transfers")
