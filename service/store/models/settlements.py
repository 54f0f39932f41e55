"""The ERP settlement export: its batches (one file each) and its committed watermark."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SettlementExport(Base):
    """One export file: settlement records first_id..last_id, pending until its watermark
    commits (a rerun redoes a pending batch exactly), then done."""

    __tablename__ = "settlement_exports"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done')", name="status_known"),
        CheckConstraint("first_id <= last_id", name="ids_ordered"),
        Index("ix_settlement_exports_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    first_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int]
    file: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    claim: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class SettlementWatermark(Base):
    """The last settlement record id an export committed; its row is the exporters' lock."""

    __tablename__ = "settlement_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column()
