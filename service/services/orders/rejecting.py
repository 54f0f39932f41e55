"""A location rejects its fulfilment (or some units of it): released at once, re-routed.

In one transaction, under the order's row lock (the lock every writer of an order takes
first, so a rejection and a cancel of the same line never both take its units): the
aggregate marks the units rejected, they leave the location's allocation (its stock is not
touched, unless the event asks `adjust_on_hand`: then its on_hand goes down by them as a
signed adjustment at the event's time), and `rerouting` re-sources them elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from service.domain.orders import Fulfilment, Order, Units
from service.domain.roles import Role
from service.errors import InsufficientStock, ValidationFailed, problem
from service.feeds.stock_rows import StockRow
from service.payloads import require
from service.services.inventory.deltas import apply_deltas
from service.services.orders import backlog
from service.services.orders.allocation import StockTaken
from service.services.orders.fulfilment import event_time, load_fulfilment
from service.services.orders.rerouting import reroute
from service.services.orders.views import fulfilment_view
from service.store.errors import WriteConflict
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

ATTEMPTS = 3
T = TypeVar("T")


def reject(ctx: Context, role: Role, fulfilment_id: str, body: dict[str, Any]
           ) -> dict[str, Any]:
    """Apply a `rejected` event: release the units, re-route them; the fulfilment after it."""
    require("fulfilment_event", body)
    if not (body.get("reason") or "").strip():
        raise ValidationFailed("A rejection says why.", [problem(
            "/reason", "reason is required when type is rejected (e.g. not_found, damaged)")])
    at = event_time(ctx, body.get("at"))
    # a rejection that says when it happened is known again when it is sent again
    event = json.dumps([at.isoformat(), body["reason"], body.get("lines"),
                        body.get("adjust_on_hand", False)]) if "at" in body else None

    def once(uow: UnitOfWork) -> dict[str, Any]:
        order, fulfilment = load_fulfilment(uow, role, fulfilment_id)
        fulfilment.check_reported_at(at, body.get("at"))
        if not _seen(order, fulfilment_id, event):
            reject_and_reroute(ctx, uow, order, fulfilment, body.get("lines"), body["reason"],
                               at, bool(body.get("adjust_on_hand")), event)
            uow.orders.save(order)
        return fulfilment_view(order.id, fulfilment, order.ship_to, order.status)

    return with_retries(ctx, once)


def _seen(order: Order, fulfilment_id: str, event: str | None) -> bool:
    """Whether this very rejection (same `at`, reason, lines) was applied already: a retry."""
    return event is not None and any(
        d.get("fulfilment") == fulfilment_id and d.get("event") == event
        for d in order.explanation.get("reroutes", []))


def reject_and_reroute(ctx: Context, uow: UnitOfWork, order: Order, fulfilment: Fulfilment,
                       lines: list[dict[str, Any]] | None, reason: str, at: datetime,
                       adjust_on_hand: bool = False, event: str | None = None) -> None:
    """Reject the units asked of a locked order's fulfilment, free them, re-route them
    (`event` identifies the report, so that a retry of it is known)."""
    refs = {"order": order.id, "fulfilment": fulfilment.id, "reason": reason}
    # the backlog and cache versions (on PostgreSQL also the switch lock, the active ruleset
    # and the journal's cause) in one statement, as placing an order starts
    if not backlog.read_first(uow, uow.journal.cause("rejection", **refs)):
        uow.journal.because("rejection", **refs)
    released, targets = order.reject(fulfilment.id, lines, reason, ctx.clock.now())
    # saved with the allocation (one statement on PostgreSQL) unless the shelf is counted
    # down after it (the caller's save then writes the order last, as it always did)
    reroute(ctx, uow, order, fulfilment, targets, released, event, save=not adjust_on_hand)
    if adjust_on_hand:
        _count_down(ctx, uow, released, at)


def with_retries(ctx: Context, once: Callable[[UnitOfWork], T]) -> T:
    """Run `once` in a transaction, again on fresh stock when planned units were taken
    meanwhile or the database reports a deadlock (nothing of a failed attempt is written)."""
    taken: StockTaken | None = None
    for _attempt in range(ATTEMPTS):
        try:
            with ctx.transaction() as uow:
                return once(uow)
        except StockTaken as conflict:
            taken = conflict
        except WriteConflict:
            pass
    short = taken.short if taken else []
    raise InsufficientStock("Stock for the re-route was taken by other orders; try again.",
                            [problem("/lines", f"{sku} at {loc} was taken", sku=sku)
                             for loc, sku in short])


def _count_down(ctx: Context, uow: UnitOfWork, released: Units, at: datetime) -> None:
    """The rejected units were not on the shelf: a signed adjustment at the event's time (an
    older one than the position's last count is stale, as any adjustment is)."""
    rows = [StockRow(index + 1, location, sku, at, adjust=-units)
            for index, ((location, sku), units) in enumerate(sorted(released.items()))]
    report = apply_deltas(ctx, uow, rows, [], len(rows))
    if report.rejected:
        raise ValidationFailed("The stock correction cannot be applied.", [
            problem("/adjust_on_hand", str(error["reason"])) for error in report.errors])
