"""Webhook deliveries: claiming what is due (one event in flight per order and subscriber),
recording every attempt, and the dead letters' list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from service.store.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription

OPEN = ("pending", "in_flight", "failed")
_D = WebhookDelivery


class DeliveryRepository:
    """Deliveries and attempts of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, now: datetime, limit: int, until: datetime) -> list[dict[str, Any]]:
        """Take up to `limit` due deliveries whose order has nothing earlier open for their
        subscriber, mark them in flight until `until` (a claim a killed process leaves is due
        again then), and return what sending them needs."""
        earlier = aliased(WebhookDelivery)
        blocked = exists().where(earlier.subscription_id == _D.subscription_id,
                                 earlier.order_key == _D.order_key,
                                 earlier.event_id < _D.event_id, earlier.status.in_(OPEN))
        query = (select(_D.id).join(WebhookSubscription,
                                    WebhookSubscription.id == _D.subscription_id)
                 .where(_D.status.in_(OPEN), _D.next_attempt_at <= now,
                        WebhookSubscription.disabled_at.is_(None),
                        WebhookSubscription.deleted_at.is_(None), ~blocked)
                 .order_by(_D.next_attempt_at, _D.id).limit(limit))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=_D, skip_locked=True)
        ids = list(self.session.scalars(query))
        if not ids:
            return []
        self.session.execute(update(_D).where(_D.id.in_(ids)).values(
            status="in_flight", attempts=_D.attempts + 1, next_attempt_at=until))
        rows = self.session.execute(
            select(_D.id, _D.event_id, _D.attempts, _D.subscription_id, WebhookSubscription.url,
                   WebhookSubscription.secret_encrypted, Event.type, Event.payload,
                   Event.created_at)
            .join(WebhookSubscription, WebhookSubscription.id == _D.subscription_id)
            .join(Event, Event.id == _D.event_id).where(_D.id.in_(ids)).order_by(_D.id))
        return [dict(r._mapping) for r in rows]

    def record(self, outcomes: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]]
               ) -> None:
        """Each delivery's new state (b_id, status, next_attempt_at, last_status_code,
        last_error, delivered_at) and one row per attempt."""
        if not outcomes:
            return
        self.session.execute(
            update(WebhookDelivery.__table__)
            .where(WebhookDelivery.__table__.c.id == bindparam("b_id"))
            .where(WebhookDelivery.__table__.c.status == "in_flight")
            .values(status=bindparam("b_status"),
                    next_attempt_at=bindparam("b_next_attempt_at"),
                    last_status_code=bindparam("b_last_status_code"),
                    last_error=bindparam("b_last_error"),
                    delivered_at=bindparam("b_delivered_at")),
            [{f"b_{k}": v for k, v in o.items()} for o in outcomes])
        self.session.execute(WebhookAttempt.__table__.insert(), list(attempts))

    def get(self, delivery_id: int) -> dict[str, Any] | None:
        """One delivery with its event type, or None."""
        page = self._select(select_where=[_D.id == delivery_id], limit=1)
        return page[0] if page else None

    def page(self, status: str | None, after: int | None, limit: int) -> list[dict[str, Any]]:
        """Deliveries newest first (of one status), each with every attempt."""
        where = [_D.status == status] if status else []
        if after is not None:
            where.append(_D.id < after)
        return self._select(where, limit)

    def _select(self, select_where: list[Any], limit: int) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(_D.id, _D.subscription_id, _D.event_id, Event.type.label("event_type"),
                   _D.status, _D.attempts, _D.next_attempt_at, _D.last_status_code,
                   _D.last_error, _D.created_at, _D.delivered_at)
            .join(Event, Event.id == _D.event_id).where(*select_where)
            .order_by(_D.id.desc()).limit(limit))
        found = [dict(r._mapping) for r in rows]
        tries = self.attempts([d["id"] for d in found])
        for delivery in found:
            delivery["attempt_log"] = tries.get(delivery["id"], [])
        return found

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """Every attempt of the deliveries named, oldest first."""
        out: dict[int, list[dict[str, Any]]] = {}
        if not delivery_ids:
            return out
        a = WebhookAttempt
        rows = self.session.execute(
            select(a.delivery_id, a.attempt, a.at, a.outcome, a.status_code, a.latency_ms,
                   a.error).where(a.delivery_id.in_(delivery_ids)).order_by(a.id))
        for r in rows:
            out.setdefault(r.delivery_id, []).append(
                {k: v for k, v in r._mapping.items() if k != "delivery_id"})
        return out

    def requeue(self, delivery_id: int, now: datetime) -> bool:
        """Make a delivery pending now with a fresh count of attempts; False while in flight."""
        result = self.session.execute(
            update(_D).where(_D.id == delivery_id, _D.status != "in_flight")
            .values(status="pending", attempts=0, next_attempt_at=now))
        return result.rowcount == 1

    def counts(self) -> dict[str, int]:
        """How many deliveries are in each status."""
        rows = self.session.execute(select(_D.status, func.count()).group_by(_D.status))
        return {r[0]: r[1] for r in rows}
