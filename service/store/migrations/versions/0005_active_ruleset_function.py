"""PostgreSQL: the switch lock and the active ruleset in one round trip

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:10:00

`oms_active_ruleset()` takes the ruleset-switch advisory lock in shared mode, then reads the
newest activation. It is VOLATILE, so its query takes a fresh snapshot after the lock is
granted: a switch that committed while this transaction waited is seen (the same guarantee
as two separate statements, at one round trip).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SWITCH_LOCK = 0x0A5F1C0  # service.services.rulesets._SWITCH_LOCK

CREATE = f"""
CREATE FUNCTION oms_active_ruleset() RETURNS TABLE (name varchar, version integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared({SWITCH_LOCK});
  RETURN QUERY SELECT a.name, a.version FROM ruleset_activations a ORDER BY a.id DESC LIMIT 1;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS oms_active_ruleset()")
