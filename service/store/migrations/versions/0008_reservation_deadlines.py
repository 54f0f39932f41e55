"""one word for short holds: reservation_deadlines; the never-written orders.variant goes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00

The service calls a cart or checkout hold a reservation everywhere (API, code, README);
`hold_deadlines` becomes `reservation_deadlines`, its rows copied. `orders.variant` was never
written: the experiments issue adds what an order keeps of its experiment.

Not safe under a rolling deploy: processes of the previous release read `hold_deadlines` and
map `orders.variant`, so stop them before upgrading (`oms db upgrade`), then start the new
release.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reservation_deadlines",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sku"], ["products.sku"],
                                name=op.f("fk_reservation_deadlines_sku_products")),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_reservation_deadlines")),
    )
    op.execute("INSERT INTO reservation_deadlines (sku, due_at)"
               " SELECT sku, due_at FROM hold_deadlines")
    op.drop_table("hold_deadlines")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("variant")


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("variant", sa.String(length=64), nullable=True))
    op.create_table(
        "hold_deadlines",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sku"], ["products.sku"],
                                name=op.f("fk_hold_deadlines_sku_products")),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_hold_deadlines")),
    )
    op.execute("INSERT INTO hold_deadlines (sku, due_at)"
               " SELECT sku, due_at FROM reservation_deadlines")
    op.drop_table("reservation_deadlines")
