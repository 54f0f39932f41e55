"""Returns (RMAs) of shipped units, their lines, and what each receipt at a location decided.

The return itself is `service.domain.returns.Return`; `store/returns.py` translates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.domain.ids import new_id

from .base import Base

RETURN_STATUSES = ("opened", "partially_received", "received")
DISPOSITIONS = ("restock", "discard", "return_to_vendor")


class ReturnRow(Base):
    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint("order_id", "idempotency_key", name="return_idempotency_key"),
        CheckConstraint("status IN ('" + "', '".join(RETURN_STATUSES) + "')",
                        name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))  # the order's, for scoping reads
    status: Mapped[str] = mapped_column(String(24), default="opened")  # derived from the lines
    requested_by: Mapped[str | None] = mapped_column(String(80), default=None)  # the key's role
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


class ReturnLineRow(Base):
    __tablename__ = "return_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_received >= 0 AND quantity_received <= quantity",
                        name="received_within_quantity"),
        # the units of an order line already in returns (the over-return check, order reads)
        Index("ix_return_lines_order_line", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    quantity: Mapped[int]
    quantity_received: Mapped[int] = mapped_column(default=0, server_default="0")
    reason: Mapped[str | None] = mapped_column(String(255), default=None)


class ReturnReceiptRow(Base):
    """One receipt of some of a return's units at one location."""

    __tablename__ = "return_receipts"
    __table_args__ = (
        # a location's receipts: which returns a location key may read
        Index("ix_return_receipts_location_return", "location_id", "return_id"),
        UniqueConstraint("return_id", "idempotency_key", name="receipt_idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    ruleset: Mapped[str] = mapped_column(String(160))  # name@version that decided
    received_by: Mapped[str] = mapped_column(String(80))  # the key's role
    received_at: Mapped[datetime] = mapped_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class ReturnReceiptLineRow(Base):
    """Units of one return line received in one condition, and the disposition decided."""

    __tablename__ = "return_receipt_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("disposition IN ('" + "', '".join(DISPOSITIONS) + "')",
                        name="disposition_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("return_receipts.id"), index=True)
    return_line_id: Mapped[int] = mapped_column(ForeignKey("return_lines.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    condition: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(255))
    disposition: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str | None] = mapped_column(String(64), default=None)  # None: the default
    vendor: Mapped[str | None] = mapped_column(String(128), default=None)
