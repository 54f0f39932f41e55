"""A ship location's reports on its fulfilments, and its work queue.

`shipped` is where fulfilment meets the stock ledger (DESIGN.md §2): every open unit leaves
the location's allocation and shelf in the same transaction as the status change, the
position is known as of the shipment (so an older count is stale and never brings the units
back), a settlement record is written per line and the change goes to the outbox.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from service.context import Context
from service.domain import ledger
from service.domain.fulfilment import IllegalTransition, next_status
from service.domain.orders import LineState, derive_status
from service.domain.roles import Role
from service.errors import Conflict, NotFound, ValidationFailed, problem
from service.services import events, payloads
from service.services.holds import change_positions, position_ids
from service.services.stock_rows import parse_time
from service.store import orders_repo
from service.store.models import (
    Fulfilment,
    FulfilmentLine,
    SettlementRecord,
    StockPosition,
    utcnow,
)
from service.store.positions import PositionRow

CLOCK_SKEW = timedelta(minutes=5)
QUEUE_STATUSES = ("created", "accepted", "picked", "packed", "shipped", "delivered",
                  "rejected", "cancelled")
QUEUE_LIMIT = 100
QUEUE_MAX_LIMIT = 500


def report(ctx: Context, role: Role, fulfilment_id: str, body: dict[str, Any]
           ) -> dict[str, Any]:
    """Apply a location's event to its fulfilment; a repeated event changes nothing."""
    payloads.require("fulfilment_event", body)
    at = _event_time(body.get("at"))
    with ctx.sessions.begin() as session:
        aggregate, fulfilment = _load(session, role, fulfilment_id)
        _check_after_creation(fulfilment, at, body.get("at"))
        try:
            status = next_status(fulfilment.status, body["type"])
        except IllegalTransition as exc:
            raise Conflict(f"Fulfilment {fulfilment_id}: {exc}.") from exc
        if status is not None:
            _move(ctx, session, aggregate, fulfilment, status, at, body)
            session.flush()
        return to_dict(fulfilment, aggregate.fulfilment_lines[fulfilment.id],
                       aggregate.order.status)


def queue(ctx: Context, role: Role, location_id: str, status: str | None,
          after: str | None = None, limit: int = QUEUE_LIMIT) -> list[dict[str, Any]]:
    """A page of a location's fulfilments, oldest first (open ones unless a status is asked
    for), starting after the fulfilment `after`; a full page may have more behind it."""
    if not role.may_use_location(location_id):
        raise NotFound(f"No location {location_id!r} for this key.")
    if status is not None and status not in QUEUE_STATUSES:
        raise ValidationFailed("Unknown status.", [problem(
            "/query/status", f"expected one of {', '.join(QUEUE_STATUSES)}")])
    wanted = [status] if status else ["created", "accepted", "picked", "packed"]
    query = (select(Fulfilment).where(Fulfilment.location_id == location_id,
                                      Fulfilment.status.in_(wanted))
             .order_by(Fulfilment.created_at, Fulfilment.id).limit(limit))
    with ctx.sessions() as session:
        if after is not None:
            query = query.where(_later_than(session, location_id, after))
        found = list(session.scalars(query))
        lines = _lines_of(session, [f.id for f in found])
        return [to_dict(f, lines.get(f.id, [])) for f in found]


def _later_than(session: Session, location_id: str, after: str) -> Any:
    created = session.scalar(select(Fulfilment.created_at).where(
        Fulfilment.id == after, Fulfilment.location_id == location_id))
    if created is None:
        raise ValidationFailed("Unknown cursor.", [problem(
            "/query/after", f"{after!r} is no fulfilment of {location_id}")])
    return or_(Fulfilment.created_at > created,
               and_(Fulfilment.created_at == created, Fulfilment.id > after))


def _event_time(raw: str | None) -> datetime:
    now = utcnow()
    if raw is None:
        return now
    at = parse_time(raw)
    if at is None:
        raise ValidationFailed("at is not a time.", [problem(
            "/at", "expected an ISO-8601 time, e.g. 2026-11-27T16:00:00Z")])
    if at > now + CLOCK_SKEW:
        raise ValidationFailed("at lies in the future.", [problem(
            "/at", f"{raw} is more than {CLOCK_SKEW} ahead of the service's clock")])
    return at


def _check_after_creation(fulfilment: Fulfilment, at: datetime, raw: str | None) -> None:
    if raw is not None and at < fulfilment.created_at:
        raise ValidationFailed("at is before the fulfilment existed.", [problem(
            "/at", f"{raw} is before the fulfilment was created "
                   f"({fulfilment.created_at.isoformat()})")])


def _load(session: Session, role: Role, fulfilment_id: str
          ) -> tuple[orders_repo.OrderAggregate, Fulfilment]:
    """The fulfilment's order, locked, and the fulfilment as it is once the lock is held.

    Only the order id is read before the lock: a fulfilment row read earlier would be the
    one the locked reload hands back, with a status another writer may since have moved.
    """
    order_id = session.scalar(select(Fulfilment.order_id).where(Fulfilment.id == fulfilment_id))
    # the order row is the lock every writer of an order takes first (as cancelling does)
    aggregate = orders_repo.load(session, order_id, lock=True) if order_id else None
    fulfilment = next((f for f in aggregate.fulfilments if f.id == fulfilment_id), None) \
        if aggregate else None
    if fulfilment is None or not role.may_use_location(fulfilment.location_id):
        raise NotFound(f"No fulfilment {fulfilment_id!r}.")
    return aggregate, fulfilment


def _move(ctx: Context, session: Session, aggregate: orders_repo.OrderAggregate,
          fulfilment: Fulfilment, status: str, at: datetime, body: dict[str, Any]) -> None:
    rows = aggregate.fulfilment_lines[fulfilment.id]
    shipped: dict[int, int] = {}
    if status == "shipped":
        shipped = _ship(ctx, session, aggregate, fulfilment, rows, at)
        fulfilment.shipped_at = at
    fulfilment.status = status
    fulfilment.updated_at = utcnow()
    if body.get("tracking"):
        fulfilment.tracking = body["tracking"]
    if body.get("reason"):
        fulfilment.reason = body["reason"]
    events.emit(session, "fulfilment", fulfilment.id, f"fulfilment.{status}", {
        "order_id": aggregate.order.id, "location": fulfilment.location_id,
        "at": at.isoformat(), "tracking": fulfilment.tracking, "reason": body.get("reason"),
        "lines": [{"sku": r.sku, "quantity": shipped[r.id]} for r in rows if shipped.get(r.id)],
    })
    _derive_order_status(session, aggregate)


def _ship(ctx: Context, session: Session, aggregate: orders_repo.OrderAggregate,
          fulfilment: Fulfilment, rows: list[FulfilmentLine], at: datetime
          ) -> dict[int, int]:
    """Every open unit ships: off the allocation and the shelf, settled, as of `at`."""
    shipped = {r.id: r.open_units for r in rows if r.open_units > 0}
    if not shipped:
        raise Conflict(f"Fulfilment {fulfilment.id} has nothing left to ship: every line is "
                       "cancelled or rejected.")
    by_key: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (fulfilment.location_id, row.sku)
        by_key[key] = by_key.get(key, 0) + shipped.get(row.id, 0)
        row.quantity_shipped += shipped.get(row.id, 0)
    _take_off_the_shelf(ctx, session, by_key, at)
    prices = {line.id: line.unit_price for line in aggregate.lines}
    for row in rows:
        if shipped.get(row.id):
            session.add(SettlementRecord(
                kind="shipped", order_id=aggregate.order.id, order_line_id=row.order_line_id,
                sku=row.sku, location_id=fulfilment.location_id, quantity=shipped[row.id],
                amount=Decimal(prices[row.order_line_id]) * shipped[row.id]))
    return shipped


def _take_off_the_shelf(ctx: Context, session: Session, units: dict[tuple[str, str], int],
                        at: datetime) -> None:
    ids = position_ids(session, units)

    def shipping(quantity: int):
        def change(row: PositionRow) -> PositionRow:
            after = ledger.ship(ledger.Position(row.on_hand, row.as_of, row.allocated,
                                                row.reserved, row.shipped_at), quantity, at)
            return dataclasses.replace(row, on_hand=after.on_hand, allocated=after.allocated,
                                       shipped_at=after.shipped_at)
        return change

    change_positions(ctx, session, ctx.rules.active(session),
                     {ids[key]: shipping(q) for key, q in units.items() if key in ids})
    sp = StockPosition.__table__
    session.execute(update(sp).where(
        sp.c.id.in_(list(ids.values())),
        or_(sp.c.last_shipped_at.is_(None), sp.c.last_shipped_at < at),
    ).values(last_shipped_at=at))


def _derive_order_status(session: Session, aggregate: orders_repo.OrderAggregate) -> None:
    order = aggregate.order
    status = derive_status(
        [LineState(ln.quantity, ln.quantity_cancelled, ln.quantity_backordered)
         for ln in aggregate.lines], [f.status for f in aggregate.fulfilments])
    if status != order.status:
        order.status = status
        events.emit(session, "order", order.id, f"order.{status}", {"status": status})


def _lines_of(session: Session, ids: list[str]) -> dict[str, list[FulfilmentLine]]:
    out: dict[str, list[FulfilmentLine]] = {}
    if ids:
        query = (select(FulfilmentLine).where(FulfilmentLine.fulfilment_id.in_(ids))
                 .order_by(FulfilmentLine.id))
        for row in session.scalars(query):
            out.setdefault(row.fulfilment_id, []).append(row)
    return out


def to_dict(fulfilment: Fulfilment, rows: list[FulfilmentLine],
            order_status: str | None = None) -> dict[str, Any]:
    """A fulfilment as the API returns it."""
    out = {
        "id": fulfilment.id, "order_id": fulfilment.order_id,
        "location": fulfilment.location_id, "status": fulfilment.status,
        "tracking": fulfilment.tracking,
        "shipped_at": fulfilment.shipped_at.isoformat() if fulfilment.shipped_at else None,
        "created_at": fulfilment.created_at.isoformat(),
        "updated_at": fulfilment.updated_at.isoformat() if fulfilment.updated_at else None,
        "lines": [{"sku": r.sku, "quantity": r.quantity, "shipped": r.quantity_shipped,
                   "cancelled": r.quantity_cancelled, "rejected": r.quantity_rejected,
                   "open": r.open_units} for r in rows],
    }
    if order_status is not None:
        out["order_status"] = order_status
    return out
