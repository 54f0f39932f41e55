"""Orders and their fulfilments (one shipment from one location), as stored (returns:
`models/returns.py`).

The order itself is `service.domain.orders.Order`; these are its rows (`store/orders.py`
translates between the two).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.domain.ids import new_id

from .base import Base


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel", "idempotency_key", name="channel_idempotency_key"),
        UniqueConstraint("channel", "order_ref", name="channel_order_ref"),
        Index("ix_orders_channel_created", "channel", "created_at"),
        Index("ix_orders_channel_status_created", "channel", "status", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_created", "created_at", "id"),
        # partial (migration 0037): a search by equality never matches NULL
        Index("ix_orders_customer_created", "customer_id", "created_at", "id",
              postgresql_where=text("customer_id IS NOT NULL"),
              sqlite_where=text("customer_id IS NOT NULL")),
        Index("ix_orders_order_ref", "order_ref", postgresql_where=text("order_ref IS NOT NULL"),
              sqlite_where=text("order_ref IS NOT NULL")),
        Index("ix_orders_experiment_variant", "experiment", "variant",
              postgresql_where=text("experiment IS NOT NULL"),
              sqlite_where=text("experiment IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(64))
    order_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    customer_id: Mapped[str | None] = mapped_column(String(128), default=None)
    status: Mapped[str] = mapped_column(String(32), default="created")
    delivery_method: Mapped[str] = mapped_column(String(16), default="ship")
    pickup_location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"), default=None)
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ruleset: Mapped[str] = mapped_column(String(128), default="")
    # the experiment and variant whose ruleset decided the order (None: no experiment)
    experiment: Mapped[str | None] = mapped_column(String(64), default=None)
    variant: Mapped[str | None] = mapped_column(String(64), default=None)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    on_short: Mapped[str | None] = mapped_column(String(16), default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


class OrderKeyRow(Base):
    """PostgreSQL: the unique keys of an order placed with an Idempotency-Key or an
    order_ref, written in the statement that inserts it. `orders` is partitioned there (by
    id), so its own unique constraints cannot span partitions; these do. SQLite keeps them on
    `orders` and leaves this table empty. Retention deletes a month's rows by its id range."""

    __tablename__ = "order_keys"
    __table_args__ = (
        UniqueConstraint("channel", "idempotency_key", name="order_keys_channel_idempotency_key"),
        UniqueConstraint("channel", "order_ref", name="order_keys_channel_order_ref"),
    )

    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    order_ref: Mapped[str | None] = mapped_column(String(128), default=None)


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="order_line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_cancelled >= 0", name="cancelled_non_negative"),
        CheckConstraint("quantity_backordered >= 0", name="backordered_non_negative"),
        CheckConstraint("unit_price >= 0", name="price_non_negative"),
        Index("ix_order_lines_sku_order", "sku", "order_id"),
        Index("ix_order_lines_backordered", "sku", "order_id",
              postgresql_where=text("quantity_backordered > 0"),
              sqlite_where=text("quantity_backordered > 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # no foreign key to orders (migration 0032): written with or under its order, by construction
    order_id: Mapped[str] = mapped_column(String(32))  # order_line_no leads with it (0037)
    line_no: Mapped[int]
    # no foreign key to products (migration 0033): parsed against the catalog, never deleted
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    quantity_cancelled: Mapped[int] = mapped_column(default=0)
    quantity_backordered: Mapped[int] = mapped_column(default=0)


class BackorderWakeup(Base):
    """A SKU whose ATS rose while an order waited for it (append-only; the release job takes
    the rows)."""

    __tablename__ = "backorder_wakeups"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()


class FulfilmentRow(Base):
    __tablename__ = "fulfilments"
    __table_args__ = (Index("ix_fulfilments_location_status", "location_id", "status"),
                      Index("ix_fulfilments_location_order", "location_id", "order_id"),
                      Index("ix_fulfilments_status_created", "status", "created_at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(String(32), index=True)  # no foreign key: 0032
    # no foreign key to locations (migration 0033): a plan's candidate, never deleted
    location_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="created")
    cost: Mapped[float] = mapped_column(default=0.0)
    factors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tracking: Mapped[str | None] = mapped_column(String(128), default=None)
    reason: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class FulfilmentLineRow(Base):
    __tablename__ = "fulfilment_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_shipped >= 0", name="shipped_non_negative"),
        CheckConstraint("quantity_rejected >= 0", name="rejected_non_negative"),
        CheckConstraint("quantity_cancelled >= 0", name="cancelled_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # no foreign keys to fulfilments and order_lines (migration 0032): by construction
    fulfilment_id: Mapped[str] = mapped_column(String(32), index=True)
    order_line_id: Mapped[int] = mapped_column(index=True)
    sku: Mapped[str] = mapped_column(String(64))  # its order line's (migration 0033)
    quantity: Mapped[int]
    quantity_shipped: Mapped[int] = mapped_column(default=0)
    quantity_rejected: Mapped[int] = mapped_column(default=0)
    quantity_cancelled: Mapped[int] = mapped_column(default=0)
