"""console: sign-in sessions and ruleset drafts

Revision ID: 0023
Revises: 0016
Create Date: 2026-12-06 11:00:00

Two new tables; no existing table changes, so the previous release runs against it unchanged.

- `console_sessions`: a console sign-in (an API key exchanged for a random token; the id is
  the token's sha256, never the token), with the key's id, prefix and role, the session's
  CSRF token, and when it was made, last seen and expires (idle expiry). Index
  `ix_console_sessions_expires_at` serves deleting the expired sessions at each sign-in.
- `ruleset_drafts`: a rule file's text being edited from a published version, who made and
  last changed it, and the version it was published as. Index `ix_ruleset_drafts_name`
  (name, id) serves listing one ruleset's drafts, newest first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=128), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "ruleset_drafts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruleset_drafts")),
    )
    op.create_index("ix_ruleset_drafts_name", "ruleset_drafts", ["name", "id"])


def downgrade() -> None:
    op.drop_index("ix_ruleset_drafts_name", table_name="ruleset_drafts")
    op.drop_table("ruleset_drafts")
    op.drop_index("ix_console_sessions_expires_at", table_name="console_sessions")
    op.drop_table("console_sessions")
