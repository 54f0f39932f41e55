"""A ship location's reports on its fulfilments.

`shipped` is where fulfilment meets the stock ledger: every open unit leaves
the location's allocation and shelf in the same transaction as the status change, the
position is known as of the shipment (so an older count is stale and never brings the units
back), a settlement record is written per line and the change goes to the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from service.domain.orders import Fulfilment, Order, Units
from service.domain.roles import Role, authorize
from service.errors import NotFound, ValidationFailed, problem
from service.feeds.stock_rows import parse_time
from service.payloads import require
from service.services.inventory.stock_changes import ship_units
from service.services.orders.views import fulfilment_view
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

CLOCK_SKEW = timedelta(minutes=5)


def report(ctx: Context, role: Role, fulfilment_id: str, body: dict[str, Any]
           ) -> dict[str, Any]:
    """Apply a location's event to its fulfilment; a repeated event changes nothing."""
    require("fulfilment_event", body)
    only_rejections = [problem(f"/{key}", f"only a rejected event names {key}")
                       for key in ("lines", "adjust_on_hand") if key in body]
    if body["type"] == "rejected" or only_rejections:
        raise ValidationFailed("Not a rejection: use type rejected.", only_rejections or [
            problem("/type", "a rejection is reported through rejecting.reject")])
    at = event_time(ctx, body.get("at"))
    with ctx.transaction() as uow:
        order, fulfilment = load_fulfilment(uow, role, fulfilment_id)
        fulfilment.check_reported_at(at, body.get("at"))
        shipped = order.report(fulfilment_id, body["type"], at=at, now=ctx.clock.now(),
                               tracking=body.get("tracking"), reason=body.get("reason"))
        if shipped:
            uow.journal.because("shipment", order=order.id, fulfilment=fulfilment_id)
            _take_off_the_shelf(ctx, uow, shipped, at)
        uow.orders.save(order)
        return fulfilment_view(order.id, fulfilment, order.ship_to, order.status)


def event_time(ctx: Context, raw: str | None) -> datetime:
    """When a reported event happened: `at` as sent (within the clock skew), else now."""
    now = ctx.clock.now()
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


def load_fulfilment(uow: UnitOfWork, role: Role, fulfilment_id: str
                    ) -> tuple[Order, Fulfilment]:
    """The fulfilment's order, locked, and the fulfilment as it is once the lock is held.

    The order is found through the fulfilment and locked in one statement, and read once
    the lock is held: a fulfilment read earlier could have a status another writer has since
    moved. The order row is the lock every writer of an order takes first (as cancelling does).
    """
    order = uow.orders.get_of_fulfilment(fulfilment_id, lock=True)
    fulfilment = order.fulfilment(fulfilment_id) if order else None
    unseen = f"No fulfilment {fulfilment_id!r}."
    if order is None or fulfilment is None:
        raise NotFound(unseen)
    authorize(role, location=fulfilment.location_id, unseen=unseen)
    return order, fulfilment


def _take_off_the_shelf(ctx: Context, uow: UnitOfWork, units: Units, at: datetime) -> None:
    """The shipped units leave the allocation and the shelf as of `at`."""
    ship_units(uow, ctx.rules.active(uow), units, at)
