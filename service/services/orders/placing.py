"""Placing an order: plan and allocate in one transaction, then read it back.

Allocation locks the planned positions (in id order) and re-checks the channel's ATS on the
locked rows, so two orders can never both take the last unit; a conflict re-plans on fresh
stock. An Idempotency-Key makes retries safe: the key's unique index refuses a second order
and the first one's 201 body is replayed. A channel's order_ref names one order: its unique
index refuses a second, which is a 409 naming the first (a key's replay comes first).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from service import metrics
from service.domain.ids import new_id, time_ordered_id
from service.domain.orders import Order, PlannedShipment, refused, split_short
from service.domain.roles import Role, authorize
from service.errors import (
    DuplicateOrderRef,
    IdempotencyMismatch,
    InsufficientStock,
    OmsError,
    Unauthenticated,
    problem,
)
from service.services.access.keys import Confirm
from service.services.experiments import live
from service.services.inventory import reservations
from service.services.orders import backlog, requests, shadowing, sourcing
from service.services.orders.allocation import StockTaken, allocate
from service.services.orders.requests import SourcingRequest
from service.services.orders.sourcing import Sourced
from service.services.orders.views import order_view
from service.services.rulesets.active import known_channel
from service.store.errors import DuplicateRow, WriteConflict
from service.store.models.versions import KEYS
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

ATTEMPTS = 3


def request_hash(body: dict[str, Any]) -> str:
    """A stable fingerprint of a request body (for Idempotency-Key reuse checks)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def place(ctx: Context, role: Role, body: dict[str, Any], key: str | None,
          confirm: Confirm | None = None) -> dict[str, Any]:
    """Place an order (201 body); raises InsufficientStock (409) naming the short lines.

    `confirm` (from the API) confirms a key the caller took from its cache, with the `keys`
    version the transaction reads beside the catalog's (no round trip of its own); a replay
    or a refusal confirms it first (a revoked key is a 401 whatever else is wrong).
    """
    once = _Once(confirm)
    try:
        return _place(ctx, role, body, key, once)
    except Unauthenticated:
        raise
    except Exception:
        once(None)
        raise


class _Once:
    """Confirms the request's key at most once (nothing to confirm without `confirm`)."""

    def __init__(self, confirm: Confirm | None) -> None:
        self._confirm, self.done = confirm, confirm is None

    def __call__(self, version: int | None) -> None:
        if not self.done:
            self._confirm(version)  # type: ignore[misc]
            self.done = True


def _place(ctx: Context, role: Role, body: dict[str, Any], key: str | None, once: _Once
           ) -> dict[str, Any]:
    channel = body.get("channel")
    if isinstance(channel, str):
        authorize(role, channel=channel, action="place orders for")
    fingerprint = request_hash(body)
    last_conflict: StockTaken | None = None
    for _attempt in range(ATTEMPTS):
        try:
            with ctx.transaction() as uow:
                return _place_once(ctx, uow, body, key, fingerprint, once)
        except StockTaken as conflict:
            last_conflict = conflict
        except WriteConflict:  # a deadlock or serialization failure: nothing was written
            pass
        except (DuplicateRow, OmsError):  # unless this key's order was placed (then replay),
            earlier = _placed_before(ctx, body, key)  # or this reference's (then 409)
            if earlier is None:
                _refuse_duplicate_ref(ctx, body)
                raise
            once(None)
            return _check_replay(earlier, fingerprint)
    earlier = _placed_before(ctx, body, key)
    if earlier is not None:
        once(None)
        return _check_replay(earlier, fingerprint)
    metrics.ORDERS.labels(str(channel), "conflict").inc()
    short = last_conflict.short if last_conflict else []
    raise InsufficientStock("Stock for some lines was taken by other orders; try again.",
                            [problem("/lines", f"{sku} at {loc} was taken", sku=sku)
                             for loc, sku in short])


def _placed_before(ctx: Context, body: dict[str, Any], key: str | None
                   ) -> tuple[str | None, dict[str, Any]] | None:
    """(request hash, 201 body) of the order placed earlier with this key on the channel."""
    if key is None or not isinstance(body.get("channel"), str):
        return None
    with ctx.reading() as uow:
        return uow.orders.find_by_key(body["channel"], key)


def _refuse_duplicate_ref(ctx: Context, body: dict[str, Any]) -> None:
    """Raise DuplicateOrderRef when the channel's order_ref names an order already."""
    channel, ref = body.get("channel"), body.get("order_ref")
    if not (isinstance(channel, str) and isinstance(ref, str)):
        return
    with ctx.reading() as uow:
        first = uow.orders.find_by_ref(channel, ref)
    if first is not None:
        raise DuplicateOrderRef(
            f"order_ref {ref!r} already names order {first} of channel {channel!r}.",
            [problem("/order_ref", f"{ref!r} already names order {first}", order_id=first)],
            order_id=first)


def _check_replay(existing: tuple[str | None, dict[str, Any]] | None,
                  fingerprint: str) -> dict[str, Any]:
    if existing is None:
        raise RuntimeError("a duplicate row that is not an Idempotency-Key race")
    if existing[0] != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request body; use a new key.")
    return {**existing[1], "idempotent_replay": True}


def _place_once(ctx: Context, uow: UnitOfWork, body: dict[str, Any], key: str | None,
                fingerprint: str, once: _Once) -> dict[str, Any]:
    """One attempt. A retried key is not looked up first: the key's unique index refuses the
    second order at insert (rolling this attempt back), and `place` then replays the first."""
    order_id = time_ordered_id(ctx.clock.now())  # its month's partition (PostgreSQL)
    refs = {"order": order_id, "channel": body.get("channel"),  # the request's, once parsed
            "reservations": body.get("reservations") or None}
    # the cache versions with the backlog (and on PostgreSQL the switch lock, the active
    # ruleset and the journal's cause): the transaction's one statement before sourcing
    named = backlog.read_first(uow, uow.journal.cause("order", **refs))
    active = ctx.rules.active(uow)  # the kept ATS is this one's: allocation moves it by it
    catalog = uow.catalog()
    once(uow.versions.current(KEYS))
    req = requests.parse(body, catalog, ctx.settings.section("sourcing")["max_order_lines"])
    choice = live.choose(ctx, uow, req.channel, req.customer_id)
    known_channel(choice.ruleset, req.channel)
    if not named:
        uow.journal.because("order", **refs)
    freed = reservations.consume(ctx, uow, req.channel, list(dict.fromkeys(
        body.get("reservations", []))), {line.sku for line in req.lines})
    sourced = sourcing.source(ctx, uow, choice.ruleset, catalog, req)
    _refuse_if_short(req, sourced)
    shadows = shadowing.plans(ctx, uow, req, choice.ruleset.ref, catalog)  # the same stock
    plan_dict = sourcing.to_dict(sourced) | choice.names()
    order = _new_order(ctx, order_id, req, sourced, plan_dict, key, fingerprint, choice)
    response = order_view(order) | {"plan": order.plan}  # explanation: GET only
    if not allocate(uow, sourced, req.channel, freed, kept_by=active, order=(order, response)):
        uow.orders.add(order, response)  # else written by the allocation's statement
    shadowing.record(uow, order_id, req.channel, sourced.plan, choice.ruleset.ref, shadows)
    metrics.ORDERS.labels(req.channel, "placed").inc()
    return response


def _refuse_if_short(req: SourcingRequest, sourced: Sourced) -> None:
    """Refuse what the order's on_short refuses (pickups: any shortage); nothing is written."""
    result = sourced.plan
    planned = result.policy_applied.endswith("backorder")  # a plan of what can ship
    short = {ln.sku: ln.quantity for ln in result.unfulfilled}
    if short and (not planned or req.delivery_method == "pickup"
                  or refused(sourced.on_short, short, result.fulfilled_units)):
        reason = result.explanation.get("reason") if req.delivery_method == "pickup" else None
        raise InsufficientStock(
            reason or f"Not enough stock for {len(result.unfulfilled)} line(s) under "
            f"{result.policy_applied} (on_short: {sourced.on_short}).",
            [problem(f"/lines/{_index(req, ln.sku)}", f"short by {ln.quantity}", sku=ln.sku,
                     short=ln.quantity) for ln in result.unfulfilled],
            ruleset=sourced.ruleset.ref)


def _index(req: SourcingRequest, sku: str) -> int:
    return next(i for i, line in enumerate(req.lines) if line.sku == sku)


def _new_order(ctx: Context, order_id: str, req: SourcingRequest, sourced: Sourced,
               plan_dict: dict[str, Any], key: str | None, fingerprint: str,
               choice: live.Choice) -> Order:
    """The order as planned: a fulfilment per shipment, the rest as its on_short says."""
    backordered, cancelled = split_short(
        sourced.on_short, {ln.sku: ln.quantity for ln in sourced.plan.unfulfilled})
    return Order.place(
        id=order_id, channel=req.channel, lines=req.lines, at=ctx.clock.now(),
        shipments=[PlannedShipment(new_id(), s.location_id, s.cost, s.factors,
                                   tuple((ln.sku, ln.quantity) for ln in s.lines))
                   for s in sourced.plan.shipments],
        backordered=backordered, cancelled=cancelled, on_short=sourced.on_short,
        order_ref=req.order_ref, customer_id=req.customer_id,
        delivery_method=req.delivery_method, pickup_location=req.pickup_location,
        ship_to=req.address, attributes=req.attributes, ruleset=sourced.ruleset.ref,
        plan={k: plan_dict[k] for k in ("ruleset", "policy_applied", "total_cost",
                                        "shipments", "unfulfilled")},
        explanation=plan_dict["explanation"], idempotency_key=key, request_hash=fingerprint,
        experiment=choice.experiment, variant=choice.variant)
