"""Placing, reading and cancelling orders: plan and allocate in one transaction.

Allocation locks the planned positions (in id order) and re-checks the channel's sellable
units on the locked rows, so two orders can never both take the last unit; a conflict
re-plans on fresh stock. An Idempotency-Key makes retries safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import metrics
from service.context import Context
from service.domain.orders import LineState, derive_status
from service.domain.roles import Role
from service.errors import (
    Forbidden,
    IdempotencyMismatch,
    InsufficientStock,
    NotFound,
    problem,
)
from service.services import events, reservations, sourcing, sourcing_request
from service.services.channel_figures import sellable
from service.services.holds import change_positions, figures, position_ids
from service.services.rulesets import require_channel
from service.services.sourcing import Sourced
from service.services.sourcing_request import SourcingRequest
from service.store import orders_repo
from service.store.models import Fulfilment, FulfilmentLine, Order, OrderLine, new_id, utcnow

ATTEMPTS = 3


class _Conflict(Exception):
    """Planned stock was taken meanwhile: re-plan."""

    def __init__(self, short: list[tuple[str, str]]):
        super().__init__(short)
        self.short = short


def request_hash(body: dict[str, Any]) -> str:
    """A stable fingerprint of a request body (for Idempotency-Key reuse checks)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def place(ctx: Context, role: Role, body: dict[str, Any], key: str | None) -> dict[str, Any]:
    """Place an order (201 body); raises InsufficientStock (409) naming the short lines."""
    channel = body.get("channel")
    if isinstance(channel, str) and not role.may_use_channel(channel):
        raise Forbidden(f"A {role} key may not place orders for channel {channel!r}.")
    fingerprint = request_hash(body)
    last_conflict: _Conflict | None = None
    for _attempt in range(ATTEMPTS):
        try:
            with ctx.sessions.begin() as session:
                return _place_once(ctx, session, body, key, fingerprint)
        except _Conflict as conflict:
            last_conflict = conflict
        except IntegrityError:
            if key is None:
                raise
            return _replay(ctx, body["channel"], key, fingerprint)
    metrics.ORDERS.labels(str(channel), "conflict").inc()
    short = last_conflict.short if last_conflict else []
    raise InsufficientStock("Stock for some lines was taken by other orders; try again.",
                            [problem("/lines", f"{sku} at {loc} was taken", sku=sku)
                             for loc, sku in short])


def _replay(ctx: Context, channel: str, key: str, fingerprint: str) -> dict[str, Any]:
    with ctx.sessions() as session:
        existing = orders_repo.find_by_key(session, channel, key)
        return _check_replay(existing, fingerprint)


def _check_replay(existing: Order | None, fingerprint: str) -> dict[str, Any]:
    if existing is None:
        raise RuntimeError("an integrity error that is not an Idempotency-Key race")
    if existing.request_hash != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request body; use a new key.")
    return {**(existing.response or {}), "idempotent_replay": True}


def _place_once(ctx: Context, session: Session, body: dict[str, Any], key: str | None,
                fingerprint: str) -> dict[str, Any]:
    if key is not None and isinstance(body.get("channel"), str):
        existing = orders_repo.find_by_key(session, body["channel"], key)
        if existing is not None:
            return _check_replay(existing, fingerprint)
    ruleset = ctx.rules.active(session)
    catalog = ctx.catalog.get(session)
    max_lines = ctx.settings.section("sourcing")["max_order_lines"]
    req = sourcing_request.parse(body, catalog, max_lines)
    require_channel(ruleset, req.channel)
    reservations.consume(ctx, session, req.channel, list(dict.fromkeys(
        body.get("reservations", []))), {line.sku for line in req.lines})
    sourced = _plan(ctx, session, ruleset, catalog, req)
    _refuse_if_short(req, sourced)
    _allocate(ctx, session, sourced, req.channel)
    aggregate = _record(session, req, sourced, key, fingerprint)
    response = to_dict(aggregate) | {"plan": aggregate.order.plan}
    aggregate.order.response = response  # the explanation stays in its own column (GET)
    metrics.ORDERS.labels(req.channel, "placed").inc()
    return response


def _plan(ctx: Context, session: Session, ruleset: Any, catalog: Any, req: SourcingRequest
          ) -> Sourced:
    if req.delivery_method == "pickup":
        return sourcing.plan_pickup(session, ruleset, catalog, req)
    return sourcing.plan(ctx, session, ruleset, catalog, req)


def _refuse_if_short(req: SourcingRequest, sourced: Sourced) -> None:
    result = sourced.plan
    backorder = result.policy_applied.endswith("backorder")
    if result.unfulfilled and (not backorder or req.delivery_method == "pickup"):
        reason = result.explanation.get("reason") if req.delivery_method == "pickup" else None
        raise InsufficientStock(
            reason or f"Not enough stock for {len(result.unfulfilled)} line(s) under "
            f"{result.policy_applied}.",
            [problem(f"/lines/{_index(req, ln.sku)}", f"short by {ln.quantity}", sku=ln.sku,
                     short=ln.quantity) for ln in result.unfulfilled],
            ruleset=sourced.ruleset.ref)


def _index(req: SourcingRequest, sku: str) -> int:
    return next(i for i, line in enumerate(req.lines) if line.sku == sku)


def _allocate(ctx: Context, session: Session, sourced: Sourced, channel: str) -> None:
    wanted = {(s.location_id, ln.sku): ln.quantity
              for s in sourced.plan.shipments for ln in s.lines}
    if not wanted:
        return
    ids = position_ids(session, wanted)
    catalog = ctx.catalog.get(session)
    short: list[tuple[str, str]] = []

    def taker(key: tuple[str, str], quantity: int):
        def take(row):
            if sellable(sourced.ruleset, catalog, figures(row), channel) < quantity:
                short.append(key)
                return None
            return dataclasses.replace(row, allocated=row.allocated + quantity)
        return take

    change_positions(ctx, session, sourced.ruleset,
                     {ids[k]: taker(k, q) for k, q in wanted.items() if k in ids})
    missing = [k for k in wanted if k not in ids]
    if short or missing:
        raise _Conflict(short + missing)


def _record(session: Session, req: SourcingRequest, sourced: Sourced, key: str | None,
            fingerprint: str) -> orders_repo.OrderAggregate:
    plan_dict = sourcing.to_dict(sourced)
    order = Order(id=new_id(), created_at=utcnow(), status="created", channel=req.channel,
                  order_ref=req.order_ref, customer_id=req.customer_id,
                  delivery_method=req.delivery_method, pickup_location_id=req.pickup_location,
                  ship_to=_ship_to(req), attributes=req.attributes, ruleset=sourced.ruleset.ref,
                  plan={k: plan_dict[k] for k in ("ruleset", "policy_applied", "total_cost",
                                                  "shipments", "unfulfilled")},
                  explanation=plan_dict["explanation"], idempotency_key=key,
                  request_hash=fingerprint)
    session.add(order)
    session.flush()
    backordered = {ln.sku: ln.quantity for ln in sourced.plan.unfulfilled}
    lines = {}
    for line in req.lines:
        row = OrderLine(order_id=order.id, line_no=line.line_no, sku=line.sku,
                        quantity=line.quantity, unit_price=line.unit_price,
                        quantity_backordered=backordered.get(line.sku, 0), quantity_cancelled=0)
        session.add(row)
        lines[line.sku] = row
    session.flush()
    fulfilments = [_record_fulfilment(session, order, shipment, lines)
                   for shipment in sourced.plan.shipments]
    session.flush()
    order.status = derive_status([LineState(ln.quantity, 0, ln.quantity_backordered)
                                  for ln in lines.values()],
                                 ["created"] * len(sourced.plan.shipments))
    events.emit(session, "order", order.id, "order.created",
                {"channel": order.channel, "status": order.status, "ruleset": order.ruleset})
    return orders_repo.OrderAggregate(order, list(lines.values()), [f for f, _ in fulfilments],
                                      {f.id: rows for f, rows in fulfilments})


def _record_fulfilment(session: Session, order: Order, shipment: Any,
                       lines: dict[str, OrderLine]) -> tuple[Fulfilment, list[FulfilmentLine]]:
    fulfilment = Fulfilment(id=new_id(), order_id=order.id, location_id=shipment.location_id,
                            cost=float(shipment.cost), factors=shipment.factors,
                            created_at=order.created_at)
    rows = [FulfilmentLine(fulfilment_id=fulfilment.id, order_line_id=lines[ln.sku].id,
                           sku=ln.sku, quantity=ln.quantity, quantity_shipped=0,
                           quantity_rejected=0, quantity_cancelled=0)
            for ln in shipment.lines]
    session.add(fulfilment)
    session.add_all(rows)
    events.emit(session, "fulfilment", fulfilment.id, "fulfilment.created",
                {"order_id": order.id, "location": shipment.location_id,
                 "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in shipment.lines]})
    return fulfilment, rows


def _ship_to(req: SourcingRequest) -> dict[str, Any]:
    return {} if req.ship_to is None else {"lat": req.ship_to[0], "lon": req.ship_to[1]}


def read(ctx: Context, role: Role, order_id: str) -> dict[str, Any]:
    """An order as it is now."""
    with ctx.sessions() as session:
        aggregate = orders_repo.load(session, order_id)
        if aggregate is None or not role.may_use_channel(aggregate.order.channel):
            raise NotFound(f"No order {order_id!r}.")
        return to_dict(aggregate) | {"plan": aggregate.order.plan,
                                     "explanation": aggregate.order.explanation}


def to_dict(aggregate: orders_repo.OrderAggregate | None) -> dict[str, Any]:
    """The order, its lines and fulfilments, as the API returns them."""
    if aggregate is None:
        return {}
    order = aggregate.order
    allocated: dict[int, int] = {}
    for rows in aggregate.fulfilment_lines.values():
        for row in rows:
            open_units = row.quantity - row.quantity_cancelled - row.quantity_rejected
            allocated[row.order_line_id] = allocated.get(row.order_line_id, 0) + open_units
    return {
        "id": order.id, "channel": order.channel, "status": order.status,
        "order_ref": order.order_ref, "customer_id": order.customer_id,
        "delivery_method": order.delivery_method, "pickup_location": order.pickup_location_id,
        "ruleset": order.ruleset, "created_at": order.created_at.isoformat(),
        "lines": [{"line_no": ln.line_no, "sku": ln.sku, "quantity": ln.quantity,
                   "unit_price": float(ln.unit_price), "allocated": allocated.get(ln.id, 0),
                   "backordered": ln.quantity_backordered, "cancelled": ln.quantity_cancelled}
                  for ln in aggregate.lines],
        "fulfilments": [{"id": f.id, "location": f.location_id, "status": f.status,
                         "cost": f.cost,
                         "lines": [{"sku": r.sku, "quantity": r.quantity,
                                    "shipped": r.quantity_shipped,
                                    "cancelled": r.quantity_cancelled}
                                   for r in aggregate.fulfilment_lines[f.id]]}
                        for f in aggregate.fulfilments],
    }
