"""experiments: the accepted experiments file, and each order's experiment and variant

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 11:00:00

- `experiment_files` (new, append-only): each accepted version of rulesets/experiments.yaml,
  its text, sha256 and the file's modification time; the newest row is the one every
  process runs (a process whose file is older than the one in force does not put it back).
  An invalid file never gets a row (its problems go to `ruleset_load_problems` like a rule
  file's). No index: it is read by its primary key (the newest id) and holds a row per
  accepted change.
- `orders.experiment`, `orders.variant` (nullable): the experiment and variant whose ruleset
  decided the order (`orders.ruleset` already names the ruleset). Existing orders keep NULL:
  no experiment decided them.
- `ix_orders_experiment_variant` (experiment, variant): serves the results of one experiment
  (`GET /v1/experiments/{key}/results`, `oms experiments report`), which read only that
  experiment's orders, per variant, however many other orders there are.

New table, nullable columns and an index: the previous release runs against it unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiment_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=True),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_files")),
    )
    op.add_column("orders", sa.Column("experiment", sa.String(length=64), nullable=True))
    op.add_column("orders", sa.Column("variant", sa.String(length=64), nullable=True))
    op.create_index("ix_orders_experiment_variant", "orders", ["experiment", "variant"])


def downgrade() -> None:
    op.drop_index("ix_orders_experiment_variant", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("variant")
        batch.drop_column("experiment")
    op.drop_table("experiment_files")
