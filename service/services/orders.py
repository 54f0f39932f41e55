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

from sqlalchemy.exc import DBAPIError, IntegrityError
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
    OmsError,
    problem,
)
from service.services import channel_figures, reservations, sourcing, sourcing_request
from service.services.channel_figures import sellable
from service.services.holds import Deltas, add_deltas, change_positions, figures, position_ids
from service.services.rulesets import require_channel
from service.services.sourcing import Sourced
from service.services.sourcing_request import SourcingRequest
from service.store import allocation_pg, orders_repo, positions
from service.store.models import Order, new_id, utcnow

ATTEMPTS = 3
RETRYABLE_SQLSTATES = ("40P01", "40001")  # deadlock_detected, serialization_failure


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
            return _check_replay(_placed_before(ctx, body, key), fingerprint)
        except DBAPIError as exc:  # a deadlock or serialization failure: nothing was written
            if getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
        except OmsError:  # refused: unless this key's order was placed before (then replay)
            earlier = _placed_before(ctx, body, key)
            if earlier is None:
                raise
            return _check_replay(earlier, fingerprint)
    earlier = _placed_before(ctx, body, key)
    if earlier is not None:
        return _check_replay(earlier, fingerprint)
    metrics.ORDERS.labels(str(channel), "conflict").inc()
    short = last_conflict.short if last_conflict else []
    raise InsufficientStock("Stock for some lines was taken by other orders; try again.",
                            [problem("/lines", f"{sku} at {loc} was taken", sku=sku)
                             for loc, sku in short])


def _placed_before(ctx: Context, body: dict[str, Any], key: str | None) -> Order | None:
    """The order placed earlier with this Idempotency-Key on the body's channel, if any."""
    if key is None or not isinstance(body.get("channel"), str):
        return None
    with ctx.sessions() as session:
        return orders_repo.find_by_key(session, body["channel"], key)


def _check_replay(existing: Order | None, fingerprint: str) -> dict[str, Any]:
    if existing is None:
        raise RuntimeError("an integrity error that is not an Idempotency-Key race")
    if existing.request_hash != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request body; use a new key.")
    return {**(existing.response or {}), "idempotent_replay": True}


def _place_once(ctx: Context, session: Session, body: dict[str, Any], key: str | None,
                fingerprint: str) -> dict[str, Any]:
    """One attempt. A retried key is not looked up first: the key's unique index refuses the
    second order at insert (rolling this attempt back), and `place` then replays the first."""
    ruleset = ctx.rules.active(session)
    catalog = ctx.catalog.get(session)
    max_lines = ctx.settings.section("sourcing")["max_order_lines"]
    req = sourcing_request.parse(body, catalog, max_lines)
    require_channel(ruleset, req.channel)
    held = reservations.consume(ctx, session, req.channel, list(dict.fromkeys(
        body.get("reservations", []))), {line.sku for line in req.lines})
    sourced = _plan(ctx, session, ruleset, catalog, req)
    _refuse_if_short(req, sourced)
    _allocate(ctx, session, sourced, req.channel, held)
    response = _record(session, req, sourced, key, fingerprint)  # explanation: GET only
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


def _allocate(ctx: Context, session: Session, sourced: Sourced, channel: str,
              held: Deltas) -> None:
    """Take the planned units: at once when no planned position changed since the plan read
    it (PostgreSQL, one statement), else by locking and re-checking each position.

    `held` are the figure deltas of the checkout holds the order consumed: moved with the
    allocation's, so the figures are locked once, after every position.
    """
    wanted = {(s.location_id, ln.sku): ln.quantity
              for s in sourced.plan.shipments for ln in s.lines}
    if not wanted:
        channel_figures.apply_deltas(session, sourced.ruleset, held)
        return
    if positions.locked(session) and wanted.keys() <= sourced.seen.keys():
        if _allocate_as_seen(ctx, session, sourced, wanted, held):
            return
    _allocate_rechecked(ctx, session, sourced, channel, wanted, held)


def _allocate_as_seen(ctx: Context, session: Session, sourced: Sourced,
                      wanted: dict[tuple[str, str], int], held: Deltas) -> bool:
    seen = [sourced.seen[key] for key in wanted]
    moves = [(figures(row), dataclasses.replace(figures(row), allocated=row.allocated + q))
             for row, q in zip(seen, wanted.values(), strict=True)]
    deltas = add_deltas(dict(held), channel_figures.channel_deltas(
        sourced.ruleset, ctx.catalog.get(session), moves))
    outcome = allocation_pg.allocate_if_unchanged(
        session, [allocation_pg.Seen(r.id, r.on_hand, r.allocated, r.reserved, q)
                  for r, q in zip(seen, wanted.values(), strict=True)],
        deltas, sourced.ruleset.ref, utcnow())
    if outcome.taken:  # figures not there yet (a SKU's first) are moved the general way
        channel_figures.apply_deltas(session, sourced.ruleset, {
            k: v for k, v in deltas.items() if k not in outcome.figures_moved})
    return outcome.taken


def _allocate_rechecked(ctx: Context, session: Session, sourced: Sourced, channel: str,
                        wanted: dict[tuple[str, str], int], held: Deltas) -> None:
    ids = {k: sourced.seen[k].id for k in wanted if k in sourced.seen}
    if len(ids) < len(wanted):
        ids.update(position_ids(session, [k for k in wanted if k not in ids]))
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
                     {ids[k]: taker(k, q) for k, q in wanted.items() if k in ids}, also=held)
    missing = [k for k in wanted if k not in ids]
    if short or missing:
        raise _Conflict(short + missing)


def _record(session: Session, req: SourcingRequest, sourced: Sourced, key: str | None,
            fingerprint: str) -> dict[str, Any]:
    """Write the order with its outbox events; return its 201 body (kept for key replays)."""
    plan_dict = sourcing.to_dict(sourced)
    plan = {k: plan_dict[k] for k in ("ruleset", "policy_applied", "total_cost", "shipments",
                                      "unfulfilled")}
    order_id, now = new_id(), utcnow()
    # in the order GET lists them: one created_at, then by id
    shipments = sorted((new_id(), shipment) for shipment in sourced.plan.shipments)
    backordered = {ln.sku: ln.quantity for ln in sourced.plan.unfulfilled}
    status = derive_status([LineState(ln.quantity, 0, backordered.get(ln.sku, 0))
                            for ln in req.lines], ["created"] * len(shipments))
    order = {"id": order_id, "created_at": now, "updated_at": now, "status": status,
             "channel": req.channel, "order_ref": req.order_ref, "customer_id": req.customer_id,
             "delivery_method": req.delivery_method, "pickup_location_id": req.pickup_location,
             "ship_to": _ship_to(req), "attributes": req.attributes,
             "ruleset": sourced.ruleset.ref, "plan": plan,
             "explanation": plan_dict["explanation"], "idempotency_key": key,
             "request_hash": fingerprint}
    order["response"] = response = _response(order, req, shipments, backordered) | {"plan": plan}
    orders_repo.insert_order(session, orders_repo.NewOrder(
        order=order,
        lines=[{"order_id": order_id, "line_no": ln.line_no, "sku": ln.sku,
                "quantity": ln.quantity, "unit_price": ln.unit_price,
                "quantity_backordered": backordered.get(ln.sku, 0), "quantity_cancelled": 0}
               for ln in req.lines],
        fulfilments=[{"id": fid, "order_id": order_id, "location_id": s.location_id,
                      "cost": float(s.cost), "factors": s.factors, "created_at": now,
                      "updated_at": now} for fid, s in shipments],
        fulfilment_lines=[{"fulfilment_id": fid, "line_no": _line_no(req, ln.sku),
                           "sku": ln.sku, "quantity": ln.quantity, "quantity_shipped": 0,
                           "quantity_rejected": 0, "quantity_cancelled": 0}
                          for fid, s in shipments for ln in s.lines],
        events=[_event("order", order_id, "order.created",
                       {"channel": req.channel, "status": status, "ruleset": order["ruleset"]},
                       now)]
        + [_event("fulfilment", fid, "fulfilment.created",
                  {"order_id": order_id, "location": s.location_id,
                   "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in s.lines]}, now)
           for fid, s in shipments]))
    return response


def _line_no(req: SourcingRequest, sku: str) -> int:
    return next(line.line_no for line in req.lines if line.sku == sku)


def _event(aggregate_type: str, aggregate_id: str, type_: str, payload: dict[str, Any],
           now: Any) -> dict[str, Any]:
    return {"aggregate_type": aggregate_type, "aggregate_id": aggregate_id, "type": type_,
            "payload": payload, "created_at": now, "attempts": 0}


def _response(order: dict[str, Any], req: SourcingRequest, shipments: list[tuple[str, Any]],
              backordered: dict[str, int]) -> dict[str, Any]:
    """The new order as `to_dict` would show it once read back."""
    allocated: dict[str, int] = {}
    for _fid, shipment in shipments:
        for ln in shipment.lines:
            allocated[ln.sku] = allocated.get(ln.sku, 0) + ln.quantity
    return {
        "id": order["id"], "channel": order["channel"], "status": order["status"],
        "order_ref": order["order_ref"], "customer_id": order["customer_id"],
        "delivery_method": order["delivery_method"],
        "pickup_location": order["pickup_location_id"], "ruleset": order["ruleset"],
        "created_at": order["created_at"].isoformat(),
        "lines": [{"line_no": ln.line_no, "sku": ln.sku, "quantity": ln.quantity,
                   "unit_price": float(ln.unit_price), "allocated": allocated.get(ln.sku, 0),
                   "backordered": backordered.get(ln.sku, 0), "cancelled": 0}
                  for ln in req.lines],
        "fulfilments": [{"id": fid, "location": s.location_id, "status": "created",
                         "cost": float(s.cost),
                         "lines": [{"sku": ln.sku, "quantity": ln.quantity, "shipped": 0,
                                    "cancelled": 0} for ln in s.lines]}
                        for fid, s in shipments],
    }


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
