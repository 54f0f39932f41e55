"""Webhook subscriptions and the router's side of the outbox: which events are not yet
handed to deliveries, and handing them over."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.domain.webhooks import OutboxEvent
from service.store.models import Event, OrderRow, WebhookDelivery, WebhookSubscription
from service.store.upsert import insert_for
from service.store.webhook_deliveries import as_arrays, insert_from_arrays

ROUTING_LOCK = 0x6F6D7377  # pg_advisory_xact_lock key: one router at a time ("omsw")
_DELIVERY_COLUMNS = {"subscription_id": "varchar", "event_id": "bigint", "order_key": "varchar",
                     "status": "varchar", "attempts": "integer", "next_attempt_at": "timestamp",
                     "created_at": "timestamp"}
_NEW_DELIVERIES_PG = insert_from_arrays("webhook_deliveries", _DELIVERY_COLUMNS,
                                        "ON CONFLICT (subscription_id, event_id) DO NOTHING")
_SUBSCRIPTION_FIELDS = ("id", "url", "events", "location", "channel", "source", "name",
                        "created_at", "created_by", "disabled_at", "disabled_reason",
                        "deleted_at", "secret_encrypted")


def subscription_dict(row: WebhookSubscription) -> dict[str, Any]:
    """A subscription row as plain data."""
    return {name: getattr(row, name) for name in _SUBSCRIPTION_FIELDS}


class WebhookRepository:
    """Subscriptions and event routing of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def add(self, row: dict[str, Any]) -> bool:
        """Insert a subscription; False when a config one of that name exists already."""
        table = WebhookSubscription.__table__
        stmt = insert_for(self.session, table).values(**row)
        if row.get("name"):
            stmt = stmt.on_conflict_do_nothing(index_elements=["name"])
        return self.session.execute(stmt.returning(table.c.id)).first() is not None

    def get(self, subscription_id: str) -> dict[str, Any] | None:
        """A subscription not deleted, or None."""
        row = self.session.get(WebhookSubscription, subscription_id)
        return subscription_dict(row) if row and row.deleted_at is None else None

    def listed(self, source: str | None = None) -> list[dict[str, Any]]:
        """Every subscription not deleted (of one source), oldest first."""
        query = (select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None))
                 .order_by(WebhookSubscription.created_at, WebhookSubscription.id))
        if source:
            query = query.where(WebhookSubscription.source == source)
        return [subscription_dict(r) for r in self.session.scalars(query)]

    def change(self, subscription_id: str, **values: Any) -> None:
        """Set columns of one subscription."""
        self.session.execute(update(WebhookSubscription)
                             .where(WebhookSubscription.id == subscription_id).values(**values))

    def active(self) -> list[dict[str, Any]]:
        """The subscriptions deliveries are made for (not disabled, not deleted)."""
        return [s for s in self.listed() if s["disabled_at"] is None]

    def lock_routing(self) -> None:
        """Serialise routers (PostgreSQL; SQLite has one writer): events of one order are then
        handed over in id order, never two routers interleaving them."""
        if self._postgres:
            self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ROUTING_LOCK})

    def unrouted(self, limit: int) -> list[OutboxEvent]:
        """The oldest committed events not handed to deliveries yet."""
        rows = self.session.execute(
            select(Event.id, Event.aggregate_type, Event.aggregate_id, Event.type, Event.payload)
            .where(Event.delivered_at.is_(None)).order_by(Event.id).limit(limit))
        return [OutboxEvent(r.id, r.aggregate_type, r.aggregate_id, r.type, r.payload or {})
                for r in rows]

    def has_unrouted(self) -> bool:
        """Whether some committed event waits to be routed (a look at ix_events_unrouted)."""
        return self.session.scalar(select(Event.id).where(Event.delivered_at.is_(None))
                                   .limit(1)) is not None

    def mark_routed(self, event_ids: Sequence[int], now: datetime) -> None:
        """Events handed to deliveries (events.delivered_at)."""
        if event_ids:
            ids = Event.id.in_(event_ids) if not self._postgres else \
                Event.id == any_(bindparam(None, list(event_ids), type_=ARRAY(BigInteger)))
            self.session.execute(update(Event).where(ids).values(delivered_at=now))

    def events_from(self, first_id: int, limit: int) -> list[OutboxEvent]:
        """Routed events from first_id on, in id order (a replay reads them page by page)."""
        rows = self.session.execute(
            select(Event.id, Event.aggregate_type, Event.aggregate_id, Event.type, Event.payload)
            .where(Event.id >= first_id, Event.delivered_at.is_not(None))
            .order_by(Event.id).limit(limit))
        return [OutboxEvent(r.id, r.aggregate_type, r.aggregate_id, r.type, r.payload or {})
                for r in rows]

    def last_event_id(self) -> int:
        """The newest event's id (0 when there is none)."""
        return self.session.scalar(select(func.max(Event.id))) or 0

    def order_channels(self, order_ids: Iterable[str]) -> dict[str, str]:
        """The channel of each order named."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        rows = self.session.execute(select(OrderRow.id, OrderRow.channel)
                                    .where(OrderRow.id.in_(ids)))
        return {r.id: r.channel for r in rows}

    def add_deliveries(self, rows: list[dict[str, Any]], requeue: bool = False) -> None:
        """Insert deliveries (one per event and subscription); with requeue, an existing one
        is queued again (a replay)."""
        if not rows:
            return
        if self._postgres and not requeue:
            self.session.execute(_NEW_DELIVERIES_PG, as_arrays(rows, _DELIVERY_COLUMNS))
            return
        table = WebhookDelivery.__table__
        stmt = insert_for(self.session, table)  # executemany: compiled once, sent in batches
        keys = ["subscription_id", "event_id"]
        if requeue:
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_={
                "status": "queued", "attempts": 0,
                "next_attempt_at": stmt.excluded.next_attempt_at},
                where=table.c.status != "in_flight")  # never two sends of one at once
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        self.session.execute(stmt, rows)
