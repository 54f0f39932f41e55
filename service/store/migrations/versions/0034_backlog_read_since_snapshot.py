"""PostgreSQL: an order's first round trip returns only the backlog rows changed since the
snapshot this worker thread read last

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 09:10:00

Every order read every location's kept backlog (`location_backlog`, one row per location with
fulfilment lines ever opened): about 1,000 rows per order at 1,000 locations and thousands at
10,000, parsed into Python for a count that moved at one or two locations since the previous
order of the same worker.

- `location_backlog.moved_by` (xid8) names the top-level transaction that last wrote the
  row: a column default on insert, a row trigger on update (every writer, whatever its SQL).
- `oms_order_start(cause, refs, at, seen)` returns, in one query and so under one snapshot:
  an 's' row with that snapshot (`pg_current_snapshot()`) and the table's row count, an 'i'
  row naming the database (server start, database oid, schema) with the transaction's id
  when it already has one (NULL otherwise), and then the rows whose `moved_by` was not
  visible in `seen` (every row when `seen` is NULL). A row whose last writer was visible in
  `seen` is the very version the reader saw then: any later version has a later writer.
- Deleted rows leave nothing to return; the caller compares the row count with its kept rows
  and reads afresh when they differ (store/backlog.py).

Downgrade restores the three-argument function and drops the trigger and column.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SWITCH_LOCK = 0x0A5F1C0  # service.store.activations._SWITCH_LOCK

MOVED_BY = """
ALTER TABLE location_backlog ADD COLUMN moved_by xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE FUNCTION oms_backlog_moved_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.moved_by := pg_current_xact_id();
  RETURN NEW;
END $$;
CREATE TRIGGER backlog_moved_by BEFORE UPDATE ON location_backlog
  FOR EACH ROW EXECUTE FUNCTION oms_backlog_moved_by();
"""

def _order_start(arguments: str, backlog: str) -> str:
    """oms_order_start(arguments): the lock, the journal's cause, the newest activation and
    the cache versions, then `backlog` (the part 0034 changes)."""
    return f"""
CREATE FUNCTION oms_order_start({arguments})
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
  RETURN QUERY {backlog};
END
$$
"""


START = _order_start("cause text, refs text, at text, seen text", """
    SELECT 's'::text, pg_current_snapshot()::text::varchar,
           (SELECT count(*) FROM location_backlog)
    UNION ALL
    SELECT 'i'::text, concat_ws(':', extract(epoch FROM pg_postmaster_start_time()),
                                (SELECT oid FROM pg_database
                                 WHERE datname = current_database()),
                                current_schema())::varchar,
           pg_current_xact_id_if_assigned()::text::bigint
    UNION ALL
    SELECT 'b'::text, b.location_id, b.open_lines::bigint FROM location_backlog b
    WHERE seen IS NULL OR NOT pg_visible_in_snapshot(b.moved_by, CAST(seen AS pg_snapshot))""")

START_BEFORE = _order_start(  # migration 0028's
    "cause text, refs text, at text",
    "SELECT 'b'::text, b.location_id, b.open_lines::bigint FROM location_backlog b")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MOVED_BY)
        op.execute("DROP FUNCTION oms_order_start(text, text, text)")
        op.execute(START)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION oms_order_start(text, text, text, text)")
        op.execute(START_BEFORE)
        op.execute("DROP TRIGGER backlog_moved_by ON location_backlog")
        op.execute("DROP FUNCTION oms_backlog_moved_by()")
        op.execute("ALTER TABLE location_backlog DROP COLUMN moved_by")
