"""Finding orders and reading an order's timeline, to the keys that may see them.

A channel key finds only its channel's orders (asking for another channel is a 403); an
admin key finds any; a location key works from its queue (GET /v1/locations/{id}/fulfilments)
and may not search orders. The timeline is the outbox as the order's channel sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.domain import events
from service.domain.roles import Role, authorize
from service.errors import Forbidden, ValidationFailed, problem
from service.services.orders.reading import visible_order
from service.services.orders.work_queue import page_limit
from service.store import order_search
from service.store.order_search import OrderFilters, TimelineEntry

if TYPE_CHECKING:
    from collections.abc import Mapping

    from service.services.access.keys import Confirm
    from service.services.context import Context

ORDER_STATUSES = ("created", "in_progress", "partially_shipped", "shipped", "delivered",
                  "backordered", "partially_backordered", "cancelled", "partially_returned",
                  "returned")
TEXT_FILTERS = ("channel", "status", "customer_id", "order_ref", "sku", "location")
TIME_FILTERS = ("created_from", "created_to")
MAX_TEXT = 128
# an order summary's fields, in the order of the search's rows and of the API's objects
SUMMARY_FIELDS = ("id", "channel", "order_ref", "customer_id", "status", "delivery_method",
                  "ruleset", "created_at", "updated_at")


def find(ctx: Context, role: Role, args: Mapping[str, str], confirm: Confirm | None = None
         ) -> list[dict[str, Any]]:
    """A page of the orders matching `args` (the query string), newest first.

    With `confirm` (a role this process cached), the key is confirmed by the `keys` version
    the search statement reads, or read at once before any refusal (a revoked key is a 401,
    whatever else is wrong)."""
    return [_summary(row) for row in find_rows(ctx, role, args, confirm)]


def find_rows(ctx: Context, role: Role, args: Mapping[str, str],
              confirm: Confirm | None = None) -> list[tuple[Any, ...]]:
    """`find`'s page as the rows came: SUMMARY_FIELDS' values in that order, the times
    naive UTC as stored. For an answer encoded straight from the rows (GET /v1/orders: no
    dict or time text built in Python per order)."""
    try:
        filters, limit = _scoped_filters(role, args)
        after = args.get("after")
        page = order_search.find_page(ctx.engine, filters, after, limit)  # one statement
        if page is None:
            raise ValidationFailed("Unknown cursor.", [problem(
                "/query/after", f"{after!r} is no order")])
    except Exception:
        if confirm is not None:
            confirm(None)
        raise
    if confirm is not None:
        confirm(page.keys_version)
    return page.rows


def _scoped_filters(role: Role, args: Mapping[str, str]) -> tuple[OrderFilters, int]:
    """The filters `role` may search with (a channel key: its channel only), and the page
    size; 403 for a key that may not search, 422 naming every bad parameter."""
    if role.kind == "location":
        raise Forbidden(f"A {role} key may not search orders: its work queue is "
                        "GET /v1/locations/{id}/fulfilments.")
    if not (role.is_admin or role.kind == "channel"):
        raise Forbidden(f"A {role} key may not search orders.")
    filters, limit = _filters(args)
    if role.kind == "channel":
        if filters.channel is not None:
            authorize(role, channel=filters.channel, action="search the orders of")
        filters = OrderFilters(**(vars(filters) | {"channel": role.scope}))
    return filters, limit


def timeline(ctx: Context, role: Role, order_id: str) -> list[dict[str, Any]]:
    """Everything that happened to the order, oldest first."""
    with ctx.reading() as uow:
        visible_order(uow, role, order_id)
        entries = uow.order_search.timeline(order_id)
    return [_entry(e) for e in entries]


def _filters(args: Mapping[str, str]) -> tuple[OrderFilters, int]:
    """The filters and the page size asked for, or a 422 naming every bad parameter."""
    problems = [problem(f"/query/{name}", f"expected 1 to {MAX_TEXT} characters")
                for name in TEXT_FILTERS
                if name in args and not 0 < len(args[name]) <= MAX_TEXT]
    status = args.get("status")
    if status is not None and status not in ORDER_STATUSES:
        problems.append(problem("/query/status",
                                f"expected one of {', '.join(ORDER_STATUSES)}"))
    times = {name: _time(args, name, problems) for name in TIME_FILTERS}
    try:
        limit = page_limit(args.get("limit"))
    except ValidationFailed as exc:
        problems += exc.problems
    if problems:
        raise ValidationFailed("The search is not valid.", problems)
    return OrderFilters(**{name: args.get(name) for name in TEXT_FILTERS}, **times), limit


def _time(args: Mapping[str, str], name: str, problems: list[dict[str, str]]
          ) -> datetime | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        problems.append(problem(f"/query/{name}",
                                "expected an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z"))
        return None
    return parsed


def _summary(row: tuple[Any, ...]) -> dict[str, Any]:
    """An order summary as the API shows it, from a row of OrderSummary's fields (times
    naive UTC, as stored)."""
    (id_, channel, order_ref, customer_id, status, delivery_method, ruleset, created_at,
     updated_at) = row
    return {"id": id_, "channel": channel, "order_ref": order_ref,
            "customer_id": customer_id, "status": status,
            "delivery_method": delivery_method, "ruleset": ruleset,
            "created_at": utc_text(created_at), "updated_at": utc_text(updated_at)}


def utc_text(stored: datetime) -> str:
    """A stored (naive UTC) time as ISO 8601 text with its offset: the very text of
    `stored.replace(tzinfo=UTC).isoformat()`, at a third of its cost."""
    return stored.isoformat() + "+00:00"


def _entry(e: TimelineEntry) -> dict[str, Any]:
    known = events.BY_NAME.get(e.type)  # None: a type written before the catalogue
    return {"id": e.id, "type": e.type, "version": known.version if known else None,
            "subject": {"type": e.aggregate_type, "id": e.aggregate_id},
            "at": e.at.isoformat(), "data": e.payload}
