"""returns: RMAs of shipped units, partial receipts at any location that takes returns, and
the disposition each received line got; products name their vendor

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-06 11:00:00

`returns` (there since 0001, never written) gains the order's channel (a channel key reads its
channel's returns without a join), `updated_at`, the Idempotency-Key of the key that opened it
(unique per order: a retry replays the first answer) and a status check (`open` becomes
`opened`, the word the API answers); its `location_id` and `received_at` go: a return may be
received in parts, at several locations, which `return_receipts` records (with the
Idempotency-Key of each receipt, unique per return, and its answer for replays). `return_lines`
gains `quantity_received` (never above `quantity`) and loses `condition` and `disposition`,
which belong to each receipt now (`return_receipt_lines`: units, condition, reason,
disposition, the rule that decided it, the vendor of a vendor return). `products` gains an
optional `vendor`.

Indexes: `ix_return_lines_order_line` (order_line_id) serves the over-return check (units of
an order line already in returns) and the returned units an order read adds up;
`ix_return_receipts_return_id` a return's receipts; `ix_return_receipts_location_return`
(location_id, return_id) which returns a location key may read (those it received);
`ix_return_receipt_lines_receipt_id` a receipt's lines. `ix_returns_order_id` (0001) stays:
an order's returns. The previous release never reads these tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "status IN ('opened', 'partially_received', 'received')"
_DISPOSITIONS = "disposition IN ('restock', 'discard', 'return_to_vendor')"


def upgrade() -> None:
    op.add_column("products", sa.Column("vendor", sa.String(length=128), nullable=True))
    _returns()
    _return_lines()
    op.create_table(
        "return_receipts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("return_id", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("ruleset", sa.String(length=160), nullable=False),
        sa.Column("received_by", sa.String(length=80), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"],
                                name=op.f("fk_return_receipts_location_id_locations")),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"],
                                name=op.f("fk_return_receipts_return_id_returns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_receipts")),
        sa.UniqueConstraint("return_id", "idempotency_key", name="receipt_idempotency_key"),
    )
    op.create_index("ix_return_receipts_return_id", "return_receipts", ["return_id"])
    op.create_index("ix_return_receipts_location_return", "return_receipts",
                    ["location_id", "return_id"])
    op.create_table(
        "return_receipt_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("return_line_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("vendor", sa.String(length=128), nullable=True),
        sa.CheckConstraint("quantity > 0",
                           name=op.f("ck_return_receipt_lines_quantity_positive")),
        sa.CheckConstraint(_DISPOSITIONS,
                           name=op.f("ck_return_receipt_lines_disposition_known")),
        sa.ForeignKeyConstraint(["receipt_id"], ["return_receipts.id"],
                                name=op.f("fk_return_receipt_lines_receipt_id_return_receipts")),
        sa.ForeignKeyConstraint(["return_line_id"], ["return_lines.id"],
                                name=op.f("fk_return_receipt_lines_return_line_id_return_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_receipt_lines")),
    )
    op.create_index("ix_return_receipt_lines_receipt_id", "return_receipt_lines",
                    ["receipt_id"])


def _returns() -> None:
    """The order's channel and updated_at filled in, `open` renamed, the receipt columns gone."""
    with op.batch_alter_table("returns") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("requested_by", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("idempotency_key", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("response", sa.JSON(), nullable=True))
    op.execute("UPDATE returns SET channel = (SELECT orders.channel FROM orders"
               " WHERE orders.id = returns.order_id), updated_at = created_at,"
               " status = CASE WHEN status = 'received' THEN 'received' ELSE 'opened' END")
    with op.batch_alter_table("returns") as batch:
        batch.alter_column("channel", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("updated_at", existing_type=sa.DateTime(), nullable=False)
        batch.alter_column("status", existing_type=sa.String(length=16),
                           type_=sa.String(length=24), existing_nullable=False)
        batch.drop_constraint("fk_returns_location_id_locations", type_="foreignkey")
        batch.drop_column("location_id")
        batch.drop_column("received_at")
        batch.create_check_constraint("status_known", _STATUSES)
        batch.create_unique_constraint("return_idempotency_key",
                                       ["order_id", "idempotency_key"])


def _return_lines() -> None:
    """Units received so far per line; condition and disposition move to the receipts."""
    with op.batch_alter_table("return_lines") as batch:
        batch.add_column(sa.Column("quantity_received", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.drop_column("condition")
        batch.drop_column("disposition")
        batch.create_check_constraint(
            "received_within_quantity",
            "quantity_received >= 0 AND quantity_received <= quantity")
        batch.create_index("ix_return_lines_order_line", ["order_line_id"])


def downgrade() -> None:
    op.drop_table("return_receipt_lines")
    op.drop_table("return_receipts")
    with op.batch_alter_table("return_lines") as batch:
        batch.drop_index("ix_return_lines_order_line")
        batch.drop_constraint(op.f("ck_return_lines_received_within_quantity"), type_="check")
        batch.add_column(sa.Column("condition", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("disposition", sa.String(length=32), nullable=True))
        batch.drop_column("quantity_received")
    with op.batch_alter_table("returns") as batch:
        batch.drop_constraint("return_idempotency_key", type_="unique")
        batch.drop_constraint(op.f("ck_returns_status_known"), type_="check")
        batch.add_column(sa.Column("location_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key("fk_returns_location_id_locations", "locations",
                                 ["location_id"], ["id"])
        for column in ("channel", "updated_at", "requested_by", "idempotency_key",
                       "request_hash", "response"):
            batch.drop_column(column)
    op.drop_column("products", "vendor")
