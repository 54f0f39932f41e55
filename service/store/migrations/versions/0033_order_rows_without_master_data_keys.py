"""order rows without foreign keys to master data: no row lock on hot products per order

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 05:40:00

Three foreign keys go, on both databases (the schema matches the models):
`order_lines.sku -> products`, `fulfilment_lines.sku -> products` and
`fulfilments.location_id -> locations`. Each inserted row's key was checked by a trigger that
reads the product or location row FOR KEY SHARE: a row lock, written into the tuple and the
WAL, on the rows every order of a popular SKU or a busy store shares, and with concurrent
orders a MultiXact of the lockers. A 3-line order from one location took seven such locks;
dropping them saved about 0.35 ms of PostgreSQL's CPU per placed order (bench/changes.md,
session of 2026-12-07), for rows that cannot point at nothing:

- An order line's SKU is parsed against the catalog before anything is written (an unknown
  SKU is a 422: services/orders/requests.py for a new order, services/orders/editing.py for
  a line an edit adds); a fulfilment line takes its order line's SKU.
- A fulfilment's location is a sourcing plan's candidate, drawn from the catalog's locations
  (a new order, a re-route, a released backorder, an edit), or the pickup location, which
  keeps its foreign key on `orders.pickup_location_id`.
- No code path deletes a product or a location: master data is upserted, and a location
  leaves service with `active: false`. Stock positions, reservations, transfers, returns and
  the kept ATS keep their foreign keys.

Downgrade puts the three back (they hold for every row the service wrote).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table, referred column)
FOREIGN_KEYS = (
    ("order_lines", "sku", "products", "sku"),
    ("fulfilment_lines", "sku", "products", "sku"),
    ("fulfilments", "location_id", "locations", "id"),
)


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"  # the naming convention of store/models/base.py


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, referred, _ in FOREIGN_KEYS:
        if sqlite:
            with op.batch_alter_table(table) as batch:
                batch.drop_constraint(_name(table, column, referred), type_="foreignkey")
        else:
            op.drop_constraint(_name(table, column, referred), table, type_="foreignkey")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, referred, referred_column in FOREIGN_KEYS:
        name = _name(table, column, referred)
        if sqlite:
            with op.batch_alter_table(table) as batch:
                batch.create_foreign_key(name, referred, [column], [referred_column])
        else:
            op.create_foreign_key(name, table, referred, [column], [referred_column])
