"""published ruleset versions live in the database; load problems too; who activated

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 09:00:00

- `ruleset_versions`: the text of every published version (a rule file imported by whichever
  process saw it first, or a version published through the API), unique per name and version
  and never changed: every process and host loads what the database holds.
- `ruleset_load_problems`: problems found in rule files, by the process (host and rules
  folder) that found them, so `/healthz` and `GET /v1/rulesets` of every process show them.
- `ruleset_activations.key_id`: the id of the API key that made an activation.

New tables and a nullable column: the previous release runs against it (it ignores them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ruleset_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruleset_versions")),
        sa.UniqueConstraint("name", "version", name="ruleset_name_version"),
    )
    op.create_table(
        "ruleset_load_problems",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reporter", sa.String(length=1000), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("col", sa.Integer(), nullable=False),
        sa.Column("pointer", sa.String(length=1000), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruleset_load_problems")),
    )
    op.create_index("ix_ruleset_load_problems_reporter", "ruleset_load_problems", ["reporter"])
    op.add_column("ruleset_activations",
                  sa.Column("key_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ruleset_activations") as batch:
        batch.drop_column("key_id")
    op.drop_index("ix_ruleset_load_problems_reporter", table_name="ruleset_load_problems")
    op.drop_table("ruleset_load_problems")
    op.drop_table("ruleset_versions")
