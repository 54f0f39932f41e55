"""the acceptance SLA finds fulfilments still `created` since before a time: by status, age

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_fulfilments_status_created", "fulfilments", ["status", "created_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_fulfilments_status_created", table_name="fulfilments")
