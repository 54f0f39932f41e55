"""order children without foreign keys: an order's lines and fulfilments point at it by construction

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 03:30:00

Four foreign keys go, on both databases (the schema matches the models):
`order_lines.order_id -> orders`, `fulfilments.order_id -> orders`,
`fulfilment_lines.fulfilment_id -> fulfilments` and `fulfilment_lines.order_line_id ->
order_lines`. Each was checked by a trigger per inserted row at the end of the placing
statement (on PostgreSQL the order_lines one against the partitioned `orders`, each partition
a constraint of its own); together about 0.3 ms of the database's CPU per placed order
(bench/changes.md, oplace2), for rows that cannot point at nothing:

- A new order's rows go in with it in one statement (store/orders_pg.py): its lines are
  selected from the order the statement inserted (`FROM o`), its fulfilments likewise, and a
  fulfilment line is written only joined to a line and a fulfilment of that same statement;
  the statement reports each table's row count and a missing one raises (rolled back). On
  SQLite (store/order_rows.insert_core) the rows are checked against each other before the
  first insert (`check_children`).
- Lines and fulfilments added later (an edit, a re-route, a release) belong to an order read
  in the same transaction, and take its id and its lines' ids from what was read.
- No code path deletes an order, an order line or a fulfilment, and no order partition is
  ever dropped (store/partitions.py retires events, journal and settlement partitions only).

tests/integration/store/test_order_children.py shows the service refusing rows that would
point at nothing, on both databases. The foreign keys to products and locations stay, and so
do settlement_records' to orders and order lines (not on the placing path's hot rows).
Downgrade puts the four back (they hold for every row the service wrote).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table, referred column)
FOREIGN_KEYS = (
    ("order_lines", "order_id", "orders", "id"),
    ("fulfilments", "order_id", "orders", "id"),
    ("fulfilment_lines", "fulfilment_id", "fulfilments", "id"),
    ("fulfilment_lines", "order_line_id", "order_lines", "id"),
)


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"  # the naming convention of store/models/base.py


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in dict.fromkeys(t for t, *_ in FOREIGN_KEYS):
        names = [_name(t, c, r) for t, c, r, _ in FOREIGN_KEYS if t == table]
        if sqlite:
            with op.batch_alter_table(table) as batch:
                for name in names:
                    batch.drop_constraint(name, type_="foreignkey")
        else:
            for name in names:
                op.drop_constraint(name, table, type_="foreignkey")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in dict.fromkeys(t for t, *_ in FOREIGN_KEYS):
        keys = [(c, r, rc) for t, c, r, rc in FOREIGN_KEYS if t == table]
        if sqlite:
            with op.batch_alter_table(table) as batch:
                for column, referred, referred_column in keys:
                    batch.create_foreign_key(_name(table, column, referred), referred,
                                             [column], [referred_column])
        else:
            for column, referred, referred_column in keys:
                op.create_foreign_key(_name(table, column, referred), table, referred,
                                      [column], [referred_column])
