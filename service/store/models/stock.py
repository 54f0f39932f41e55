"""The stock ledger: positions per (location, sku), reservations, and the kept ATS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.domain.ids import new_id

from .base import Base


class StockPosition(Base):
    __tablename__ = "stock_positions"
    __table_args__ = (
        UniqueConstraint("location_id", "sku", name="location_sku"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("allocated >= 0", name="allocated_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        # Sourcing reads an order's SKUs at a ring of locations. No count is in an index, so
        # count and allocation updates are heap-only on PostgreSQL (fillfactor 90, 0006).
        Index("ix_stock_positions_sku", "sku", "location_id", postgresql_include=["id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    on_hand: Mapped[int] = mapped_column(default=0)
    as_of: Mapped[datetime]
    allocated: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    last_shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column()


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "status IN ('active', 'released', 'expired', 'consumed')", name="status_known"
        ),
        Index("ix_reservations_status_expires", "status", "expires_at"),
        Index("ix_reservations_sku_status", "sku", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column(default=None)


class ReservationDeadline(Base):
    """When the next active reservation of a SKU falls due: at or before its earliest
    `expires_at`.

    Availability lookups read it with the ATS (no scan of reservations per read) and free the
    SKU's overdue reservations first when it has passed. A reservation released or consumed
    early may leave it early: the next expiry pass of the SKU then moves it on, or removes it.
    """

    __tablename__ = "reservation_deadlines"

    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    due_at: Mapped[datetime]


class ChannelAvailability(Base):
    """Available-to-sell per channel and SKU, kept current as stock, reservations and rules
    change."""

    __tablename__ = "channel_availability"
    __table_args__ = (CheckConstraint("available >= 0", name="available_non_negative"),)

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)  # summed over locations
    ruleset: Mapped[str] = mapped_column(String(160), default="")
    updated_at: Mapped[datetime] = mapped_column()


class LocationStockState(Base):
    """Per-location ledger facts: the as_of of its newest full snapshot.

    A count older than the location's newest snapshot is stale even for positions the
    snapshot left unchanged, without rewriting every unchanged position.
    """

    __tablename__ = "location_stock_state"

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    snapshot_as_of: Mapped[datetime | None] = mapped_column(default=None)


class InventoryJournalEntry(Base):
    """One change of a position's on_hand, allocated or reserved, before and after, with the
    cause and ids its unit of work named. Written only by the positions table's triggers
    (migration 0022), in the writing transaction; never updated. PostgreSQL: partitioned by
    month of `at`, primary key (id, at) (migration 0026, store/partitions.py)."""

    __tablename__ = "inventory_journal"
    __table_args__ = (
        # one position's changes in order (the journal call, its cursor), and a SKU set's
        # changes (reconstruction of some SKUs)
        Index("ix_inventory_journal_position", "sku", "location_id", "id"),
        # the changes after a time (reconstruction of everything as of t); BRIN on
        # PostgreSQL: appended in time order, next to nothing to maintain
        Index("ix_inventory_journal_at", "at", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    location_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(16))
    refs: Mapped[dict[str, Any]]
    on_hand_before: Mapped[int]
    on_hand_after: Mapped[int]
    allocated_before: Mapped[int]
    allocated_after: Mapped[int]
    reserved_before: Mapped[int]
    reserved_after: Mapped[int]
