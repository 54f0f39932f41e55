"""PostgreSQL: an order's first round trip (switch lock, active ruleset, journal cause,
cache versions, backlog)

Revision ID: 0028
Revises: 0025
Create Date: 2026-12-06 14:20:00

`oms_order_start(cause, refs, at)` does in one call what placing an order did in three
statements: it takes the ruleset-switch advisory lock in shared mode (as
`oms_active_ruleset()`), names the journal's cause for the transaction (the settings the
positions' triggers read), and returns the newest activation ('a'), every cache version
('v', all rows: the caller keeps those it caches) and every location's kept backlog
('b'). It is VOLATILE plpgsql, so each query takes a fresh snapshot after the lock is
granted: a ruleset switch or master-data change that committed while this transaction
waited is seen, as with separate statements.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SWITCH_LOCK = 0x0A5F1C0  # service.store.activations._SWITCH_LOCK

CREATE = f"""
CREATE FUNCTION oms_order_start(cause text, refs text, at text)
RETURNS TABLE (kind text, name varchar, n bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared({SWITCH_LOCK});
  PERFORM set_config('oms.journal_cause', cause, true),
          set_config('oms.journal_refs', refs, true),
          set_config('oms.journal_at', at, true);
  RETURN QUERY SELECT 'a'::text, a.name, a.version::bigint FROM ruleset_activations a
    ORDER BY a.id DESC LIMIT 1;
  RETURN QUERY SELECT 'v'::text, v.name, v.version::bigint FROM cache_versions v;
  RETURN QUERY SELECT 'b'::text, b.location_id, b.open_lines::bigint FROM location_backlog b;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS oms_order_start(text, text, text)")
