"""Operational tables: outbox, settlement, feed runs, ruleset activations, keys, job leases."""

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

from .base import Base


class Event(Base):
    """The outbox: every change, written in the transaction that made it.

    PostgreSQL: partitioned by month of created_at, primary key (id, created_at) (migration
    0026, store/partitions.py); ids are still unique and increasing (one sequence)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_aggregate", "aggregate_type", "aggregate_id", "id"),
                      # the webhook router's queue (delivered_at: handed to webhook deliveries)
                      Index("ix_events_unrouted", "id",
                            postgresql_where=text("delivered_at IS NULL"),
                            sqlite_where=text("delivered_at IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class SettlementRecord(Base):
    """PostgreSQL: partitioned by month of created_at, primary key (id, created_at)
    (migration 0026, store/partitions.py); ids are still unique and increasing."""

    __tablename__ = "settlement_records"
    __table_args__ = (
        CheckConstraint("kind IN ('shipped', 'cancelled', 'returned')", name="kind_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_settlement_records_exported", "exported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    sku: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[str | None] = mapped_column(String(64), default=None)
    quantity: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    disposition: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column()
    exported_at: Mapped[datetime | None] = mapped_column(default=None)
    export_batch: Mapped[str | None] = mapped_column(String(64), default=None)


class FeedRun(Base):
    __tablename__ = "feed_runs"
    __table_args__ = (Index("ix_feed_runs_feed_started", "feed", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(1000), default="")
    checksum: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows_read: Mapped[int] = mapped_column(default=0)
    applied: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    stale: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(String(1000), default=None)
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_ms: Mapped[int | None] = mapped_column(default=None)


class FeedFile(Base):
    """Files a feed has applied, remembered by checksum so each applies once."""

    __tablename__ = "feed_files"
    __table_args__ = (UniqueConstraint("feed", "checksum", name="feed_checksum"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(String(128))
    checksum: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(1000))
    applied_at: Mapped[datetime] = mapped_column()


class RulesetActivation(Base):
    __tablename__ = "ruleset_activations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    previous: Mapped[str | None] = mapped_column(String(160), default=None)
    activated_by: Mapped[str] = mapped_column(String(128))
    activated_at: Mapped[datetime] = mapped_column()
    key_id: Mapped[str | None] = mapped_column(String(32), default=None)  # the API key's id


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(128))
    label: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class JobLease(Base):
    """Who runs a scheduled job now: with several processes on one database, one runs it."""

    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class JobMark(Base):
    """How far a periodic job got (the time its last run covered), for jobs that work on
    what happened since then."""

    __tablename__ = "job_marks"

    job: Mapped[str] = mapped_column(String(128), primary_key=True)
    marked_at: Mapped[datetime]
