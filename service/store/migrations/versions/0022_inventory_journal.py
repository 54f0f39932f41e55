"""inventory journal: every change of a position, with its cause, written by triggers

Revision ID: 0022
Revises: 0016
Create Date: 2026-12-06 11:00:00

One new table, `inventory_journal` (append-only): per change of a position's on_hand,
allocated or reserved, the position (location, sku), the three counts before and after, when
(`at`), the cause and the ids behind it (`refs`, JSON). Triggers on `stock_positions` write
it in the writing statement's own transaction, so no code path can change stock without a
journal row, and a rolled-back change leaves none:

- PostgreSQL: two statement-level AFTER triggers (INSERT, UPDATE) reading the transition
  tables (one INSERT ... SELECT per statement: a 50,000-row snapshot UPDATE journals in one
  set-based statement, not 50,000 function calls). The cause, refs and time come from the
  transaction-local settings `oms.journal_cause`, `oms.journal_refs`, `oms.journal_at`
  (set_config(..., true), store/journal.py).
- SQLite: two row-level AFTER triggers reading the same three values through the SQL
  function `oms_journal(name)`, which every connection made by store/db.make_engine
  registers (the unit of work's context, cleared when the connection goes back to the pool).

A change with no cause set is journaled as "unknown". An insert of an empty position
(0/0/0, what a missing position means) and an update that moves none of the three counts
(as_of, last_shipped_at) write nothing. Positions are never deleted by the service: deletes
are not journaled.

The journal begins with this migration: no baseline row is written; stock as it was at t is
the current positions minus the changes journaled after t (store/journal.py).

Indexes: `ix_inventory_journal_position` (sku, location_id, id) serves one position's changes
in order with its id cursor (GET /v1/inventory/journal) and the changes of a SKU set
(reconstruction of some SKUs); `ix_inventory_journal_at` (at) serves the changes after a time
(reconstruction of every position as of t): BRIN on PostgreSQL (rows are appended in time
order, so block ranges summarise it; next to nothing to maintain on a 50,000-row snapshot),
a b-tree on SQLite. No existing table changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("at, location_id, sku, cause, refs, on_hand_before, on_hand_after,"
            " allocated_before, allocated_after, reserved_before, reserved_after")

# the unit of work's context, read once per statement (plpgsql variables: query parameters)
_PG_DECLARE = (
    "DECLARE j_at timestamp := coalesce(nullif(current_setting('oms.journal_at', true), '')"
    "::timestamp, now() AT TIME ZONE 'UTC');"
    " j_cause text := coalesce(nullif(current_setting('oms.journal_cause', true), ''),"
    " 'unknown');"
    " j_refs json := coalesce(nullif(current_setting('oms.journal_refs', true), ''), '{}')"
    "::json;")

_PG_FUNCTIONS = {
    "inventory_journal_updates": (
        f"INSERT INTO inventory_journal ({_COLUMNS})"
        " SELECT j_at, n.location_id, n.sku, j_cause, j_refs,"
        " o.on_hand, n.on_hand, o.allocated, n.allocated, o.reserved, n.reserved"
        " FROM journal_new_rows n JOIN journal_old_rows o ON o.id = n.id"
        " WHERE (o.on_hand, o.allocated, o.reserved)"
        " IS DISTINCT FROM (n.on_hand, n.allocated, n.reserved) ORDER BY n.id"),
    "inventory_journal_inserts": (
        f"INSERT INTO inventory_journal ({_COLUMNS})"
        " SELECT j_at, n.location_id, n.sku, j_cause, j_refs,"
        " 0, n.on_hand, 0, n.allocated, 0, n.reserved FROM journal_new_rows n"
        " WHERE n.on_hand <> 0 OR n.allocated <> 0 OR n.reserved <> 0 ORDER BY n.id"),
}
_PG_TRIGGERS = {
    "inventory_journal_updates": "UPDATE ON stock_positions REFERENCING OLD TABLE AS"
                                 " journal_old_rows NEW TABLE AS journal_new_rows",
    "inventory_journal_inserts": "INSERT ON stock_positions REFERENCING NEW TABLE AS"
                                 " journal_new_rows",
}

_SQLITE_CONTEXT = (
    "coalesce(oms_journal('at'), strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'),"
    " NEW.location_id, NEW.sku, coalesce(oms_journal('cause'), 'unknown'),"
    " coalesce(oms_journal('refs'), '{}')")
_SQLITE_TRIGGERS = {
    "inventory_journal_updates": (
        "AFTER UPDATE OF on_hand, allocated, reserved ON stock_positions"
        " WHEN OLD.on_hand IS NOT NEW.on_hand OR OLD.allocated IS NOT NEW.allocated"
        " OR OLD.reserved IS NOT NEW.reserved"
        f" BEGIN INSERT INTO inventory_journal ({_COLUMNS}) VALUES ({_SQLITE_CONTEXT},"
        " OLD.on_hand, NEW.on_hand, OLD.allocated, NEW.allocated, OLD.reserved, NEW.reserved);"
        " END"),
    "inventory_journal_inserts": (
        "AFTER INSERT ON stock_positions"
        " WHEN NEW.on_hand <> 0 OR NEW.allocated <> 0 OR NEW.reserved <> 0"
        f" BEGIN INSERT INTO inventory_journal ({_COLUMNS}) VALUES ({_SQLITE_CONTEXT},"
        " 0, NEW.on_hand, 0, NEW.allocated, 0, NEW.reserved); END"),
}


def upgrade() -> None:
    op.create_table(
        "inventory_journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        *[sa.Column(f"{count}_{side}", sa.Integer(), nullable=False)
          for count in ("on_hand", "allocated", "reserved") for side in ("before", "after")],
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_journal")),
    )
    op.create_index("ix_inventory_journal_position", "inventory_journal",
                    ["sku", "location_id", "id"])
    op.create_index("ix_inventory_journal_at", "inventory_journal", ["at"],
                    postgresql_using="brin")
    if op.get_bind().dialect.name == "postgresql":
        for name, body in _PG_FUNCTIONS.items():
            # transition tables carry no statistics: left to itself the planner may join
            # 50,000 old rows to 50,000 new ones by nested loop (2.5e9 comparisons); and the
            # snapshot path's count write turns hash joins off for its own statement, which
            # these functions run inside of. A hash join, whatever the caller set.
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
                       " SET enable_nestloop = off SET enable_hashjoin = on"
                       f" AS $$ {_PG_DECLARE} BEGIN {body}; RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {_PG_TRIGGERS[name]}"
                       f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON stock_positions" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_inventory_journal_at", table_name="inventory_journal")
    op.drop_index("ix_inventory_journal_position", table_name="inventory_journal")
    op.drop_table("inventory_journal")
