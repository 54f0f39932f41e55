"""live experiments: each running variant's kept availability, and shadow decisions

Revision ID: 0025
Revises: 0018
Create Date: 2026-12-06 12:00:00

- `variant_availability` (new): available-to-sell per (ruleset, channel, sku) for each
  ruleset a running experiment's variants name, kept current in the transactions that
  change stock (beside `channel_availability`, the active ruleset's) and fully recomputed
  when an experiments file that runs them is accepted. Read by its primary key.
- `shadow_decisions` (new): per live order and shadow ruleset, whether the shadow plan
  differs from the live one and both costs, indexed by the shadow experiment (its
  results read only its rows). Nothing else of a shadow plan is written.

- `cache_versions` row `experiments`: bumped by the transaction that accepts an experiments
  file, so every process knows which variants' figures to keep without a statement of its
  own (the version is read with the catalog's).

New tables and a row: the previous release runs against them unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "variant_availability",
        sa.Column("ruleset", sa.String(length=160), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "available >= 0", name=op.f("ck_variant_availability_available_non_negative")),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_variant_availability_sku_products")),
        sa.PrimaryKeyConstraint("ruleset", "channel", "sku",
                                name=op.f("pk_variant_availability")),
    )
    op.create_table(
        "shadow_decisions",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("shadow", sa.String(length=160), nullable=False),
        sa.Column("experiment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("live_ruleset", sa.String(length=160), nullable=False),
        sa.Column("differs", sa.Boolean(), nullable=False),
        sa.Column("live_cost", sa.Float(), nullable=False),
        sa.Column("shadow_cost", sa.Float(), nullable=False),
        sa.Column("shadow_unfulfilled", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "shadow", name=op.f("pk_shadow_decisions")),
    )
    op.create_index("ix_shadow_decisions_experiment", "shadow_decisions", ["experiment"])
    op.execute("INSERT INTO cache_versions (name, version) VALUES ('experiments', 1)")


def downgrade() -> None:
    op.execute("DELETE FROM cache_versions WHERE name = 'experiments'")
    op.drop_index("ix_shadow_decisions_experiment", table_name="shadow_decisions")
    op.drop_table("shadow_decisions")
    op.drop_table("variant_availability")
