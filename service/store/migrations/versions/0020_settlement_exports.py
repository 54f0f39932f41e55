"""settlement exports: the ERP export's batches and its committed watermark

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-06 11:00:00

Two new tables. `settlement_exports`: one row per export file (records first_id..last_id,
file name, format, currency, status pending/done, the claim of the run writing it). A batch
is committed as `pending` before its file is written and becomes `done` in the transaction
that advances the watermark, so a run that crashed in between is redone exactly (same ids,
same file). `settlement_watermark`: one row per exporter (`erp`) with the last record id
exported; exporters lock this row, so two of them never take the same records.

Indexes:
- `uq_settlement_exports_first_id` (unique first_id): no two batches can start at the same
  record, whatever happens to the lock (a second, overlapping batch fails to commit).
- `ix_settlement_exports_status` (status, id): the exporter's first question, "is there a
  pending batch to redo?", answered without reading the done ones.
`settlement_records` needs no new index: batches and the `GET /v1/settlements?since=` pages
read it by primary key ranges (`id > :since ORDER BY id`).
No existing table changes; the previous release runs against this schema unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settlement_exports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')",
                           name=op.f("ck_settlement_exports_status_known")),
        sa.CheckConstraint("first_id <= last_id", name=op.f("ck_settlement_exports_ids_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_exports")),
        sa.UniqueConstraint("first_id", name=op.f("uq_settlement_exports_first_id")),
    )
    op.create_index("ix_settlement_exports_status", "settlement_exports", ["status", "id"])
    op.create_table(
        "settlement_watermark",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_settlement_watermark")),
    )


def downgrade() -> None:
    op.drop_table("settlement_watermark")
    op.drop_index("ix_settlement_exports_status", table_name="settlement_exports")
    op.drop_table("settlement_exports")
