"""Transfer orders (units moved between two locations) and their lines, as stored.

The transfer itself is `service.domain.transfers.Transfer`; `store/transfers.py` translates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

TRANSFER_STATUSES = ("created", "shipped", "partially_received", "received", "closed",
                     "cancelled")


class TransferRow(Base):
    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("requested_by", "idempotency_key", name="transfer_idempotency_key"),
        CheckConstraint("status IN ('" + "', '".join(TRANSFER_STATUSES) + "')",
                        name="status_known"),
        CheckConstraint("from_location_id <> to_location_id", name="two_locations"),
        # a location's transfers out, and the units on their way to it (availability detail)
        Index("ix_transfers_from_status", "from_location_id", "status"),
        Index("ix_transfers_to_status", "to_location_id", "status"),
        # the transfers in transit whose expected arrival entered a channel's window
        Index("ix_transfers_status_expected", "status", "expected_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    from_location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(24), default="created")
    reference: Mapped[str | None] = mapped_column(String(128), default=None)
    tracking: Mapped[str | None] = mapped_column(String(128), default=None)
    reason: Mapped[str | None] = mapped_column(String(255), default=None)
    requested_by: Mapped[str] = mapped_column(String(80))  # the role of the key that asked
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    expected_at: Mapped[datetime | None] = mapped_column(default=None)  # None: unknown


class TransferLineRow(Base):
    __tablename__ = "transfer_lines"
    __table_args__ = (
        UniqueConstraint("transfer_id", "sku", name="transfer_line_sku"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_shipped >= 0 AND quantity_cancelled >= 0"
                        " AND quantity_shipped + quantity_cancelled <= quantity",
                        name="shipped_within_quantity"),
        CheckConstraint("quantity_received >= 0 AND quantity_missing >= 0"
                        " AND quantity_received + quantity_missing <= quantity_shipped",
                        name="received_within_shipped"),
        Index("ix_transfer_lines_sku", "sku", "transfer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"))
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    quantity: Mapped[int]
    quantity_shipped: Mapped[int] = mapped_column(default=0)
    quantity_received: Mapped[int] = mapped_column(default=0)
    quantity_missing: Mapped[int] = mapped_column(default=0)
    quantity_cancelled: Mapped[int] = mapped_column(default=0)
