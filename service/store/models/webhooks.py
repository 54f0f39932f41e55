"""Webhook tables: subscriptions, one delivery per event and subscription, every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

DUE = text("status IN ('pending', 'in_flight', 'failed')")
LANE = text("status IN ('queued', 'pending', 'in_flight', 'failed')")


class WebhookSubscription(Base):
    """A receiver: its URL, the event globs it wants, filters, and its encrypted secret."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (CheckConstraint("source IN ('api', 'config')", name="source_known"),
                      UniqueConstraint("name"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    location: Mapped[str | None] = mapped_column(String(64), default=None)
    channel: Mapped[str | None] = mapped_column(String(64), default=None)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    disabled_reason: Mapped[str | None] = mapped_column(String(255), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookDelivery(Base):
    """One event for one subscription: its status, attempts and when the next is due."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'pending', 'in_flight', 'delivered', 'failed', 'dead')",
            name="status_known"),
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "next_attempt_at",
              postgresql_where=DUE, sqlite_where=DUE),
        Index("ix_webhook_deliveries_lane", "subscription_id", "order_key", "event_id",
              postgresql_where=LANE, sqlite_where=LANE),
        Index("ix_webhook_deliveries_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    # an events.id, without a foreign key: events is partitioned on PostgreSQL (migration
    # 0026); the router writes deliveries only for events it read, and retiring an events
    # partition deletes its events' deliveries with it (store/partitions.py)
    event_id: Mapped[int]
    order_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookAttempt(Base):
    """One attempt to deliver: its outcome, status code, latency and error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"))
    attempt: Mapped[int]
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(default=None)
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(500), default=None)


__all__ = ["WebhookAttempt", "WebhookDelivery", "WebhookSubscription"]
