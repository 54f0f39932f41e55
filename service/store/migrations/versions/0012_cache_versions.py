"""caches every process can trust: cache_versions, and each location's exact backlog

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 12:00:00

- `cache_versions`: one row per thing a process caches (`catalog`: products and locations;
  `keys`: API keys), its `version` bumped by the transaction that changes the thing. A
  process compares its copy against it on the next request that needs it (for keys in the
  same statement as the request's first read), so a write is seen by the next request of
  every worker and host (it was up to a second later for master data, 30 s for a revoked
  key).
- `location_backlog`: open fulfilment lines per location, moved in the transaction that
  opens or closes them, seeded here from the fulfilments open now. Sourcing reads it exactly
  (it was a count cached for two seconds per process).

New tables only, but the previous release does not move `location_backlog`: an order it
placed after the upgrade would be missing from it. Stop it, upgrade, start the new release.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEED_BACKLOG = (
    "INSERT INTO location_backlog (location_id, open_lines)"
    " SELECT f.location_id, COUNT(l.id) FROM fulfilments AS f"
    " JOIN fulfilment_lines AS l ON l.fulfilment_id = f.id"
    " WHERE f.status IN ('created', 'accepted', 'picked', 'packed')"
    " GROUP BY f.location_id")


def upgrade() -> None:
    op.create_table(
        "cache_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_versions")),
    )
    op.execute("INSERT INTO cache_versions (name, version) VALUES ('catalog', 1), ('keys', 1)")
    op.create_table(
        "location_backlog",
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("open_lines", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("open_lines >= 0",
                           name=op.f("ck_location_backlog_not_negative")),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"],
                                name=op.f("fk_location_backlog_location_id_locations")),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_location_backlog")),
    )
    op.execute(_SEED_BACKLOG)


def downgrade() -> None:
    op.drop_table("location_backlog")
    op.drop_table("cache_versions")
