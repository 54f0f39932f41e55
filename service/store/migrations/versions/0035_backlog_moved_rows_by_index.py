"""PostgreSQL: an order's first statement finds the moved backlog rows through an index and
learns of deleted rows from a counter, reading no longer every row

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 14:10:00

After 0034 an order's first statement still visited every `location_backlog` row twice: to
count them (a deleted row is seen only as a smaller count) and to test each row's writer
against the reader's previous snapshot: with a row at each of 10,000 locations, 0.65 ms of
PostgreSQL's 2.7 ms of CPU per order (measured with bench/profile_orders.py), the order's
largest cost that grew with the network.

- `ix_location_backlog_moved_by`: a writer older than the snapshot's xmin was visible in it
  (`pg_visible_in_snapshot` is true below xmin), so only rows with `moved_by >= xmin` can
  have been moved since; those are found through the index, then tested as before. A
  first read (`seen` NULL) asks since the snapshot 1:1:, in which no transaction id is
  visible: every row.
- Deleted rows are counted instead: a statement trigger on DELETE and TRUNCATE adds one to
  the single row of `location_backlog_deletions` in the deleting transaction, and the 's'
  row returns that counter (was the row count; -1 if the row is missing, and then every
  read is a full one). A reader that kept another counter reads the table in full
  (store/backlog_kept.py). The counter has a table of its own, which no model maps and only
  the trigger writes: a counter that went back (a row of `cache_versions`, emptied with the
  other tables by a test's cleanup) would hide the deletions before it.

Downgrade restores 0034's function and drops the trigger, its function, the counter's table
and the index.
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

COUNTED = """
CREATE INDEX ix_location_backlog_moved_by ON location_backlog (moved_by);
CREATE TABLE location_backlog_deletions (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  deletions bigint NOT NULL
);
INSERT INTO location_backlog_deletions (deletions) VALUES (0);
CREATE FUNCTION oms_backlog_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE location_backlog_deletions SET deletions = deletions + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER backlog_deleted AFTER DELETE OR TRUNCATE ON location_backlog
  FOR EACH STATEMENT EXECUTE FUNCTION oms_backlog_deleted();
"""

# 0034's function with its row count and its test of every row replaced; a NULL `seen`
# (every row) is the snapshot 1:1:, in which no transaction id (all >= 3) is visible
_ROW_COUNT = "(SELECT count(*) FROM location_backlog)"
_EVERY_ROW_TESTED = (
    "WHERE seen IS NULL OR NOT pg_visible_in_snapshot(b.moved_by, CAST(seen AS pg_snapshot))")
_DELETIONS_COUNTED = (
    "COALESCE((SELECT d.deletions FROM location_backlog_deletions d), -1)")
_MOVED_SINCE_SEEN = (
    "WHERE b.moved_by >= pg_snapshot_xmin(CAST(COALESCE(seen, '1:1:') AS pg_snapshot))\n"
    "      AND NOT pg_visible_in_snapshot(b.moved_by,\n"
    "                                     CAST(COALESCE(seen, '1:1:') AS pg_snapshot))")


def _start() -> str:
    """oms_order_start as 0035 defines it (from 0034's text, both parts checked found)."""
    before = _migration_0034().START
    if _ROW_COUNT not in before or _EVERY_ROW_TESTED not in before:  # checked under -O too
        raise RuntimeError("migration 0034's oms_order_start is not the text 0035 edits")
    return before.replace(_ROW_COUNT, _DELETIONS_COUNTED).replace(
        _EVERY_ROW_TESTED, _MOVED_SINCE_SEEN)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(COUNTED)
        op.execute("DROP FUNCTION oms_order_start(text, text, text, text)")
        op.execute(_start())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION oms_order_start(text, text, text, text)")
        op.execute(_migration_0034().START)
        op.execute("DROP TRIGGER backlog_deleted ON location_backlog")
        op.execute("DROP FUNCTION oms_backlog_deleted()")
        op.execute("DROP TABLE location_backlog_deletions")
        op.execute("DROP INDEX ix_location_backlog_moved_by")


def _migration_0034() -> ModuleType:
    """Migration 0034's module (its oms_order_start is what downgrade restores)."""
    path = Path(__file__).with_name("0034_backlog_read_since_snapshot.py")
    spec = importlib.util.spec_from_file_location("oms_migration_0034", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
