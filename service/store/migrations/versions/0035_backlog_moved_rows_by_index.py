"""PostgreSQL: an order's first statement finds the moved backlog rows through an index and
learns of deleted rows from a counter, reading no longer every row

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 14:10:00

After 0034 an order's first statement still visited every `location_backlog` row twice: to
count them (a deleted row is seen only as a smaller count) and to test each row's writer
against the reader's previous snapshot. 0.1 ms per order at 1,000 locations; at 10,000
about ten times that, the order's largest cost that grows with the network.

- `ix_location_backlog_moved_by`: a writer older than the snapshot's xmin was visible in it
  (`pg_visible_in_snapshot` is true below xmin), so only rows with `moved_by >= xmin` can
  have been moved since; those are found through the index, then tested as before.
- Deleted rows are counted instead: a statement trigger on DELETE and TRUNCATE adds one to
  `cache_versions`' row 'backlog_deletions' in the deleting transaction, and the 's' row
  returns that counter (was the row count). A reader that kept an earlier counter reads the
  table in full (store/backlog_kept.py).

Downgrade restores 0034's function and drops the trigger, its function, the counter row and
the index.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SWITCH_LOCK = 0x0A5F1C0  # service.store.activations._SWITCH_LOCK
DELETIONS = "backlog_deletions"  # service.store.backlog_kept.DELETIONS

COUNTED = f"""
CREATE INDEX ix_location_backlog_moved_by ON location_backlog (moved_by);
CREATE FUNCTION oms_backlog_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO cache_versions (name, version) VALUES ('{DELETIONS}', 1)
  ON CONFLICT (name) DO UPDATE SET version = cache_versions.version + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER backlog_deleted AFTER DELETE OR TRUNCATE ON location_backlog
  FOR EACH STATEMENT EXECUTE FUNCTION oms_backlog_deleted();
"""

# the rows moved since `seen`, under the same snapshot as the 's' and 'i' rows
_SINCE = """
    SELECT 's'::text, pg_current_snapshot()::text::varchar,
           COALESCE((SELECT v.version FROM cache_versions v WHERE v.name = '{deletions}'), 0)
    UNION ALL
    SELECT 'i'::text, concat_ws(':', extract(epoch FROM pg_postmaster_start_time()),
                                (SELECT oid FROM pg_database
                                 WHERE datname = current_database()),
                                current_schema())::varchar,
           pg_current_xact_id_if_assigned()::text::bigint
    UNION ALL
    SELECT 'b'::text, b.location_id, b.open_lines::bigint FROM location_backlog b
    {where}"""

# a writer below the snapshot's xmin was visible in it: only rows at or above it can differ
_MOVED_SINCE_SEEN = """WHERE b.moved_by >= pg_snapshot_xmin(CAST(seen AS pg_snapshot))
      AND NOT pg_visible_in_snapshot(b.moved_by, CAST(seen AS pg_snapshot))"""

START = f"""
CREATE FUNCTION oms_order_start(cause text, refs text, at text, seen text)
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
  IF seen IS NULL THEN
    RETURN QUERY {_SINCE.format(deletions=DELETIONS, where="")};
  ELSE
    RETURN QUERY {_SINCE.format(deletions=DELETIONS, where=_MOVED_SINCE_SEEN)};
  END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(COUNTED)
        op.execute("DROP FUNCTION oms_order_start(text, text, text, text)")
        op.execute(START)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION oms_order_start(text, text, text, text)")
        op.execute(_migration_0034().START)
        op.execute("DROP TRIGGER backlog_deleted ON location_backlog")
        op.execute("DROP FUNCTION oms_backlog_deleted()")
        op.execute(f"DELETE FROM cache_versions WHERE name = '{DELETIONS}'")
        op.execute("DROP INDEX ix_location_backlog_moved_by")


def _migration_0034() -> ModuleType:
    """Migration 0034's module (its oms_order_start is what downgrade restores)."""
    path = Path(__file__).with_name("0034_backlog_read_since_snapshot.py")
    spec = importlib.util.spec_from_file_location("oms_migration_0034", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
