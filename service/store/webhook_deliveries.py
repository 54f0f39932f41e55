"""Webhook deliveries: claiming what is due (one event in flight per order and subscriber),
recording every attempt, and the dead letters' list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Text, any_, bindparam, cast, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.domain.webhooks import next_in_lanes
from service.store.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from service.store.models.base import naive_utc

DUE = ("pending", "in_flight", "failed")  # at most one per order and subscriber
OPEN = ("queued", *DUE)  # not yet done
_D = WebhookDelivery
Lane = tuple[str, str]

# PostgreSQL: the lanes go as two arrays, so each statement has one text whatever the number
# of lanes (psycopg parses and PostgreSQL plans it once, instead of once per IN-list length),
# and the lane index (partial: status IN OPEN) serves each lane.
_LANES_PG = ("JOIN unnest(CAST(:subs AS varchar[]), CAST(:keys AS varchar[]))"
             " AS l(subscription_id, order_key)"
             " ON d.subscription_id = l.subscription_id AND d.order_key = l.order_key"
             " WHERE d.status IN ('queued', 'pending', 'in_flight', 'failed')")
_BUSY_LANES_PG = text("SELECT DISTINCT d.subscription_id, d.order_key"
                      f" FROM webhook_deliveries d {_LANES_PG}")
# each lane's first open delivery, a pending, in-flight or failed one before any queued one:
# a queued one first is the lane's turn (domain.webhooks.next_in_lanes, in one statement)
_PROMOTE_NEXT_PG = text(
    "WITH first_open AS (SELECT DISTINCT ON (d.subscription_id, d.order_key) d.id, d.status"
    f" FROM webhook_deliveries d {_LANES_PG}"
    " ORDER BY d.subscription_id, d.order_key, d.status = 'queued', d.event_id)"
    " UPDATE webhook_deliveries w SET status = 'pending', next_attempt_at = :now"
    " FROM first_open f WHERE w.id = f.id AND f.status = 'queued' AND w.status = 'queued'"
    " RETURNING w.id")


def insert_from_arrays(table: str, columns: dict[str, str], tail: str = "") -> Any:
    """PostgreSQL: `INSERT INTO table (columns) SELECT * FROM unnest(:column::type[], ...)`:
    a batch of rows in one statement, one text whatever its size (instead of one INSERT a row
    in a pipeline: a statement each for psycopg to send and PostgreSQL to run); the values
    come from `as_arrays`."""
    arrays = ", ".join(f"CAST(:{c} AS {t}[])" for c, t in columns.items())
    return text(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
                + (f" {tail}" if tail else ""))


def as_arrays(rows: Sequence[dict[str, Any]], columns: Iterable[str]) -> dict[str, list[Any]]:
    """Rows as one list of values per column (timestamps naive UTC, as stored), the
    parameters of an `insert_from_arrays` statement."""
    return {c: [naive_utc(r[c]) if isinstance(r[c], datetime) else r[c] for r in rows]
            for c in columns}


_ATTEMPT_COLUMNS = {"delivery_id": "integer", "attempt": "integer", "at": "timestamp",
                    "outcome": "varchar", "status_code": "integer", "latency_ms": "integer",
                    "error": "varchar"}
_ATTEMPTS_PG = insert_from_arrays("webhook_attempts", _ATTEMPT_COLUMNS)


def _ids_in(column: Any, ids: Sequence[int], postgres: bool) -> Any:
    """`column IN ids`: on PostgreSQL as `= ANY(array)`, one statement text for any count."""
    if postgres:
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


def _lane_params(lanes: Sequence[Lane]) -> dict[str, list[str]]:
    unique = sorted(set(lanes))
    return {"subs": [lane[0] for lane in unique], "keys": [lane[1] for lane in unique]}


class DeliveryRepository:
    """Deliveries and attempts of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def claim(self, now: datetime, limit: int, until: datetime) -> list[dict[str, Any]]:
        """Take up to `limit` due deliveries (each the one open delivery of its order to its
        subscriber: the others wait queued), mark them in flight until `until` (a claim a
        killed process leaves is due again then), and return what sending them needs."""
        active = select(WebhookSubscription.id).where(
            WebhookSubscription.disabled_at.is_(None), WebhookSubscription.deleted_at.is_(None))
        query = (select(_D.id).where(_D.status.in_(DUE), _D.next_attempt_at <= now,
                                     _D.subscription_id.in_(active))
                 .order_by(_D.next_attempt_at).limit(limit))  # the due index, oldest first
        if self._postgres:  # a second claimer skips
            query = query.with_for_update(skip_locked=True)
        ids = list(self.session.scalars(
            update(_D).where(_D.id.in_(query.correlate(None).scalar_subquery()),
                             _D.status.in_(DUE))  # re-checked on a row changed meanwhile
            .values(status="in_flight", attempts=_D.attempts + 1, next_attempt_at=until)
            .returning(_D.id).execution_options(synchronize_session=False)))
        if not ids:
            return []
        rows = self.session.execute(
            select(_D.id, _D.event_id, _D.attempts, _D.subscription_id, _D.order_key,
                   WebhookSubscription.url,
                   WebhookSubscription.secret_encrypted, Event.type,
                   # the payload's JSON text as stored: sent as it is, never decoded
                   cast(Event.payload, Text).label("payload_json"),
                   Event.created_at)
            .join(WebhookSubscription, WebhookSubscription.id == _D.subscription_id)
            .join(Event, Event.id == _D.event_id).where(_ids_in(_D.id, ids, self._postgres))
            .order_by(_D.id))
        return [dict(r._mapping) for r in rows]

    def record(self, outcomes: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]]
               ) -> None:
        """Each delivery's new state (id, status, next_attempt_at, last_status_code,
        last_error, delivered_at) and one row per attempt."""
        if not outcomes:
            return
        groups: dict[tuple[Any, ...], list[int]] = {}
        for o in outcomes:  # most answers are alike (delivered now, 2xx): one UPDATE each kind
            key = (o["status"], o["next_attempt_at"], o["last_status_code"], o["last_error"],
                   o["delivered_at"])
            groups.setdefault(key, []).append(o["id"])
        for (status, due, code, error, delivered), ids in groups.items():
            self.session.execute(
                update(_D).where(_ids_in(_D.id, ids, self._postgres), _D.status == "in_flight")
                .values(status=status, next_attempt_at=due, last_status_code=code,
                        last_error=error, delivered_at=delivered)
                .execution_options(synchronize_session=False))
        if self._postgres:
            self.session.execute(_ATTEMPTS_PG, as_arrays(attempts, _ATTEMPT_COLUMNS))
        else:
            self.session.execute(WebhookAttempt.__table__.insert(), list(attempts))

    def any_due(self, now: datetime) -> bool:
        """Whether some delivery is due (a look at the due index)."""
        return self.session.scalar(select(_D.id).where(_D.status.in_(DUE),
                                                       _D.next_attempt_at <= now)
                                   .limit(1)) is not None

    def busy_lanes(self, lanes: Sequence[Lane]) -> set[Lane]:
        """Those of these (subscription, order key) lanes with a delivery not yet done."""
        if not lanes:
            return set()
        if self._postgres:
            rows = self.session.execute(_BUSY_LANES_PG, _lane_params(lanes))
            return {(r[0], r[1]) for r in rows}
        return {(r["subscription_id"], r["order_key"]) for r in self._open_in_lanes(lanes)}

    def promote_next(self, lanes: Sequence[Lane], now: datetime) -> list[int]:
        """In each of these lanes with nothing pending, in flight or failed, the first queued
        delivery (by event id) becomes pending, due now; the ids promoted."""
        if not lanes:
            return []
        if self._postgres:
            return list(self.session.scalars(_PROMOTE_NEXT_PG, {**_lane_params(lanes),
                                                                "now": now}))
        turn = next_in_lanes(self._open_in_lanes(lanes))
        self.promote(turn, now)
        return turn

    def _open_in_lanes(self, lanes: Sequence[Lane]) -> list[dict[str, Any]]:
        """SQLite: the deliveries not yet done of these lanes."""
        found: list[dict[str, Any]] = []
        unique = sorted(set(lanes))
        for start in range(0, len(unique), 500):
            rows = self.session.execute(
                select(_D.id, _D.subscription_id, _D.order_key, _D.event_id, _D.status)
                .where(_D.status.in_(OPEN),
                       tuple_(_D.subscription_id, _D.order_key).in_(unique[start:start + 500])))
            found += [dict(r._mapping) for r in rows]
        return found

    def queued_lanes(self) -> list[Lane]:
        """Every lane with a queued delivery (the sweep that heals a missed promotion)."""
        rows = self.session.execute(select(_D.subscription_id, _D.order_key)
                                    .where(_D.status == "queued").distinct())
        return [(r[0], r[1]) for r in rows]

    def promote(self, ids: Sequence[int], now: datetime) -> None:
        """Queued deliveries become pending, due now (their lane's turn)."""
        if ids:
            self.session.execute(update(_D).where(_ids_in(_D.id, ids, self._postgres),
                                             _D.status == "queued")
                                 .values(status="pending", next_attempt_at=now)
                                 .execution_options(synchronize_session=False))

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

    def requeue(self, delivery_id: int, now: datetime) -> tuple[str, str] | None:
        """Queue a delivery again with a fresh count of attempts (its lane's promotion makes
        it pending); its lane, or None while it is in flight."""
        row = self.session.execute(
            update(_D).where(_D.id == delivery_id, _D.status != "in_flight")
            .values(status="queued", attempts=0, next_attempt_at=now)
            .returning(_D.subscription_id, _D.order_key)).first()
        return (row[0], row[1]) if row else None

    def counts(self) -> dict[str, int]:
        """How many deliveries are in each status."""
        rows = self.session.execute(select(_D.status, func.count()).group_by(_D.status))
        return {r[0]: r[1] for r in rows}

    def failures(self) -> dict[str, int]:
        """How many attempts failed, by the start of their error."""
        errors = func.substr(WebhookAttempt.error, 1, 40)
        rows = self.session.execute(select(errors, func.count())
                                    .where(WebhookAttempt.outcome != "delivered")
                                    .group_by(errors))
        return {r[0] or "": r[1] for r in rows}
