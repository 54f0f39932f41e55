"""A ship location's work queue: its fulfilments, oldest first, a page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.orders import OPEN_FULFILMENT
from service.domain.roles import Role, authorize
from service.errors import ValidationFailed, problem
from service.services.orders.views import fulfilment_view

if TYPE_CHECKING:
    from service.services.context import Context

QUEUE_STATUSES = ("created", "accepted", "picked", "packed", "shipped", "delivered",
                  "rejected", "cancelled")
QUEUE_LIMIT = 100
QUEUE_MAX_LIMIT = 500


def queue(ctx: Context, role: Role, location_id: str, status: str | None,
          after: str | None = None, limit: int = QUEUE_LIMIT) -> list[dict[str, Any]]:
    """A page of a location's fulfilments, oldest first (open ones unless a status is asked
    for), starting after the fulfilment `after`; a full page may have more behind it."""
    authorize(role, location=location_id, unseen=f"No location {location_id!r} for this key.")
    if status is not None and status not in QUEUE_STATUSES:
        raise ValidationFailed("Unknown status.", [problem(
            "/query/status", f"expected one of {', '.join(QUEUE_STATUSES)}")])
    with ctx.reading() as uow:
        found = uow.orders.queue(location_id, [status] if status else OPEN_FULFILMENT,
                                 after, limit)
    if found is None:
        raise ValidationFailed("Unknown cursor.", [problem(
            "/query/after", f"{after!r} is no fulfilment of {location_id}")])
    return [fulfilment_view(q.order_id, q.fulfilment, q.ship_to) for q in found]


def page_limit(raw: str | None) -> int:
    """The page size asked for (default 100), or a 422 when it is not 1..500."""
    if raw is None:
        return QUEUE_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= QUEUE_MAX_LIMIT:
        raise ValidationFailed("limit is not valid.", [problem(
            "/query/limit", f"expected 1 to {QUEUE_MAX_LIMIT}")])
    return int(raw)
