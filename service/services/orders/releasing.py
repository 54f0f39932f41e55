"""Backorder release: backordered units are planned again when stock for them rises.

Two ways in, one release. A transaction that raises a channel's ATS of a SKU some order has
backordered leaves a wakeup row (`ats.kept.move` → `uow.backorders.wake`, one small insert,
nothing at all when nobody waits for the SKU); the scheduler's `orders.backorders` job takes
the wakeups every `backorders.release_seconds` and releases those SKUs' orders. The
`orders.backorders.sweep` job looks at every waiting order every `backorders.sweep_seconds`
(stock freed by a ruleset switch, a wakeup lost with a crashed job).

Orders are released oldest first, each in a transaction of its own under its row lock: its
backordered units are planned as a re-route plans (the order's ruleset version, split policy
within its max_shipments, the channel's promise, no location that rejected the line), from
the channel's ATS now, so the plan never takes units other orders hold; the units are
allocated as placing allocates them (a conflict re-plans on fresh stock). What is planned
becomes new fulfilments, the rest keeps waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from service.domain.ids import new_id
from service.domain.orders import Order, PlannedShipment, backordered_units, release_backorder
from service.errors import OmsError
from service.services.orders import sourcing
from service.services.orders.allocation import allocate
from service.services.orders.rejecting import with_retries
from service.services.orders.rerouting import (
    order_ruleset,
    planned,
    rerouted_request,
    within_budget,
)
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
PAGE = 200  # waiting orders read at a time
WAKEUPS = 1000  # wakeup rows taken per pass


def release_woken(ctx: Context) -> list[str]:
    """Release the orders waiting for the SKUs whose stock rose since the last pass; the ids
    of the orders released (some or all of their backordered units)."""
    with ctx.transaction() as uow:
        skus = uow.backorders.take_woken(WAKEUPS)
    return release_waiting(ctx, skus, trigger="stock_rose") if skus else []


def release_all(ctx: Context) -> list[str]:
    """Release every waiting order that stock now allows (the periodic sweep)."""
    return release_waiting(ctx, None, trigger="sweep")


def release_waiting(ctx: Context, skus: Collection[str] | None, trigger: str) -> list[str]:
    """Release the orders waiting for these SKUs (None: any), oldest first."""
    released, after = [], None
    while True:
        with ctx.reading() as uow:
            page = uow.backorders.waiting_orders(skus, PAGE, after)
        for created_at, order_id in page:
            if release_order(ctx, order_id, trigger):
                released.append(order_id)
            after = (created_at, order_id)
        if len(page) < PAGE:
            return released


def release_order(ctx: Context, order_id: str, trigger: str) -> bool:
    """Release what stock allows of one order's backordered units; whether any were."""

    def once(uow: UnitOfWork) -> bool:
        order = uow.orders.get(order_id, lock=True)
        if order is None or not backordered_units(order):
            return False  # released or cancelled by another writer meanwhile
        if not release_locked(ctx, uow, order, trigger):
            return False
        uow.orders.save(order)
        return True

    try:
        return with_retries(ctx, once)
    except OmsError as exc:  # its stock was taken on every attempt: the next pass tries again
        log.warning("order %s not released yet: %s", order_id, exc.detail)
        return False


def release_locked(ctx: Context, uow: UnitOfWork, order: Order, trigger: str) -> bool:
    """Plan and allocate a locked order's backordered units; whether any were released."""
    uow.journal.because("order", order=order.id, backorder_release=trigger)
    active = ctx.rules.active(uow)  # the kept ATS is this one's: allocation moves it by it
    ruleset = within_budget(order, active if order.ruleset == active.ref
                            else order_ruleset(ctx, uow, order))
    req = rerouted_request(order, backordered_units(order), "backorder")
    barred = {line.sku: order.rejected_by(line.line_no) for line in req.lines}
    if order.delivery_method == "pickup":  # collected at its store: that store, or wait
        sourced = sourcing.plan_pickup(uow, ruleset, uow.catalog(), req)
    else:
        sourced = sourcing.plan(ctx, uow, ruleset, uow.catalog(), req, barred=barred)
    if not sourced.plan.shipments:
        return False
    allocate(uow, sourced, order.channel, {}, kept_by=active)
    shipments = [PlannedShipment(new_id(), s.location_id, s.cost, s.factors,
                                 tuple((ln.sku, ln.quantity) for ln in s.lines))
                 for s in sourced.plan.shipments]
    now = ctx.clock.now()
    release_backorder(order, shipments, now, _decision(now, trigger, req.lines, barred,
                                                       ruleset.ref, planned(sourced, shipments)))
    return True


def _decision(now: Any, trigger: str, lines: Any, barred: dict[str, set[str]], ruleset: str,
              plan: dict[str, Any]) -> dict[str, Any]:
    """The release as the order's explanation records it."""
    return {"at": now.isoformat(), "trigger": trigger, "ruleset": ruleset,
            "waiting": [{"sku": ln.sku, "quantity": ln.quantity} for ln in lines],
            "barred": {sku: sorted(locs) for sku, locs in barred.items() if locs}, **plan}
