"""journal rows in index order: a statement's journal rows are inserted by (sku, location_id)

Revision ID: 0031
Revises: 0026
Create Date: 2026-12-06 20:05:00

PostgreSQL only (SQLite's row-level triggers write one row at a time). The two statement
triggers of migration 0022 inserted a statement's journal rows in position id order, so a
50,000-row snapshot update made 50,000 inserts at random places of
`ix_inventory_journal_position` (sku, location_id, id): about two thirds of the journal
insert's time (bench/changes.md, issue 18). Inserted in that index's own order the B-tree
descents run along neighbouring leaf pages. The rows, their ids and their order per position
do not change: within one statement each position has one row, ids still rise in insertion
order, and every reader orders by id within a position or by time.

No table, index or storage parameter changes (stock_positions keeps fillfactor 90 from 0006).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("at, location_id, sku, cause, refs, on_hand_before, on_hand_after,"
            " allocated_before, allocated_after, reserved_before, reserved_after")

# as in 0022: the unit of work's context, read once per statement
_DECLARE = (
    "DECLARE j_at timestamp := coalesce(nullif(current_setting('oms.journal_at', true), '')"
    "::timestamp, now() AT TIME ZONE 'UTC');"
    " j_cause text := coalesce(nullif(current_setting('oms.journal_cause', true), ''),"
    " 'unknown');"
    " j_refs json := coalesce(nullif(current_setting('oms.journal_refs', true), ''), '{}')"
    "::json;")


def _functions(order: str) -> dict[str, str]:
    return {
        "inventory_journal_updates": (
            f"INSERT INTO inventory_journal ({_COLUMNS})"
            " SELECT j_at, n.location_id, n.sku, j_cause, j_refs,"
            " o.on_hand, n.on_hand, o.allocated, n.allocated, o.reserved, n.reserved"
            " FROM journal_new_rows n JOIN journal_old_rows o ON o.id = n.id"
            " WHERE (o.on_hand, o.allocated, o.reserved)"
            f" IS DISTINCT FROM (n.on_hand, n.allocated, n.reserved) ORDER BY {order}"),
        "inventory_journal_inserts": (
            f"INSERT INTO inventory_journal ({_COLUMNS})"
            " SELECT j_at, n.location_id, n.sku, j_cause, j_refs,"
            " 0, n.on_hand, 0, n.allocated, 0, n.reserved FROM journal_new_rows n"
            f" WHERE n.on_hand <> 0 OR n.allocated <> 0 OR n.reserved <> 0 ORDER BY {order}"),
    }


def _replace(order: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, body in _functions(order).items():
        # (the settings of 0022: a hash join of the transition tables, whatever the caller set)
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
                   " SET enable_nestloop = off SET enable_hashjoin = on"
                   f" AS $$ {_DECLARE} BEGIN {body}; RETURN NULL; END $$")


def upgrade() -> None:
    _replace("n.sku, n.location_id")


def downgrade() -> None:
    _replace("n.id")
