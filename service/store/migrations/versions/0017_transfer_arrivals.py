"""transfer arrivals: when a transfer is expected, and how far the arrivals job got

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 11:00:00

`transfers.expected_at` (nullable: an unknown arrival, never counted by a channel) is when
the transfer's units are expected at the destination; a channel rule's `count_in_transit`
sells the units in transit expected within its window. One index,
`ix_transfers_status_expected` (status, expected_at): the `transfers.arrivals` job's search
for transfers in transit whose expected arrival entered a window since its last run, and
the in-transit units counted by the kept-ATS recompute. One new table, `job_marks` (job,
marked_at): the time a periodic job's last run covered. The previous release runs against
it unchanged (a nullable column it never reads, a table it never reads).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("expected_at", sa.DateTime(), nullable=True))
    op.create_index("ix_transfers_status_expected", "transfers", ["status", "expected_at"])
    op.create_table(
        "job_marks",
        sa.Column("job", sa.String(length=128), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_marks")),
    )


def downgrade() -> None:
    op.drop_table("job_marks")
    op.drop_index("ix_transfers_status_expected", table_name="transfers")
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("expected_at")
