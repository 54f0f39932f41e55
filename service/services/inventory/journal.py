"""The inventory journal's reads: why a position is where it is, and stock as it was.

Every change of a position's on_hand, allocated or reserved is journaled by the database
in the changing transaction (store/journal.py, migration 0022) with the cause its unit of
work named (`uow.journal.because`). These are the reads: one position's changes, paged by
journal id, and positions as they were at a time (the current positions minus every change
journaled after it: exact for any time since the journal began).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role, authorize
from service.errors import NotFound, ValidationFailed, problem
from service.store.journal import JournalEntry, PositionAsOf

if TYPE_CHECKING:
    from service.services.context import Context

PAGE, MAX_PAGE, MAX_SKUS = 100, 500, 200
ORDERS = ("newest", "oldest")


def changes(ctx: Context, role: Role, args: Mapping[str, str]) -> list[dict[str, Any]]:
    """A page of one position's changes (`location`, `sku`), newest first unless
    `order=oldest`, from `since`, after the cursor `after` (a journal id); `limit` 1..500."""
    problems: list[dict[str, Any]] = []
    location, sku = _text(args, "location", problems), _text(args, "sku", problems)
    since = _time(args, "since", problems, required=False)
    limit, after = page_limit(args.get("limit"), problems), _cursor(args, problems)
    order = args.get("order", "newest")
    if order not in ORDERS:
        problems.append(problem("/query/order", "expected newest or oldest"))
    _refuse(problems)
    authorize(role, location=location, action="read the stock journal of")
    with ctx.reading() as uow:
        _known(uow.catalog(), location, [sku])
        found = uow.journal.entries(location, sku, after=after, since=since, limit=limit,
                                    oldest_first=order == "oldest")
    return [entry_view(e) for e in found]


def as_of(ctx: Context, role: Role, args: Mapping[str, str], skus: list[str]
          ) -> dict[str, Any]:
    """The positions of `skus` (at `location`, else every location the key may see) as
    they were at `at`."""
    problems: list[dict[str, Any]] = []
    at = _time(args, "at", problems, required=True)
    if not 1 <= len(skus) <= MAX_SKUS:
        problems.append(problem("/query/sku", f"expected 1 to {MAX_SKUS} skus"))
    location = _text(args, "location", problems) if "location" in args else (
        role.scope if role.kind == "location" else None)
    _refuse(problems)
    authorize(role, location=location or "*", action="read the stock journal of")
    with ctx.reading() as uow:
        _known(uow.catalog(), location, skus)
        found = uow.journal.as_of(at, skus, location)  # type: ignore[arg-type]
    return {"at": at.isoformat(), "positions": [position_view(p) for p in found]}


def positions_as_of(ctx: Context, at: datetime, skus: Collection[str] | None = None
                    ) -> list[PositionAsOf]:
    """Every position (of these SKUs, or all) as it was at `at`, set-based (for replay)."""
    with ctx.reading() as uow:
        return uow.journal.as_of(at, skus)


def entry_view(entry: JournalEntry) -> dict[str, Any]:
    """One change as the API shows it."""
    names = ("on_hand", "allocated", "reserved")
    return {"id": entry.id, "at": entry.at.isoformat(), "location": entry.location_id,
            "sku": entry.sku, "cause": entry.cause, "refs": entry.refs,
            "before": dict(zip(names, entry.before, strict=True)),
            "after": dict(zip(names, entry.after, strict=True))}


def position_view(position: PositionAsOf) -> dict[str, Any]:
    """A position as it was, with the units it left free then."""
    free = max(0, position.on_hand - position.allocated - position.reserved)
    return {"location": position.location_id, "sku": position.sku,
            "on_hand": position.on_hand, "allocated": position.allocated,
            "reserved": position.reserved, "available": free}


def page_limit(raw: str | None, problems: list[dict[str, Any]]) -> int:
    """The page size asked for (default 100), or a problem when it is not 1..500."""
    if raw is None:
        return PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        problems.append(problem("/query/limit", f"expected 1 to {MAX_PAGE}"))
        return PAGE
    return int(raw)


def _cursor(args: Mapping[str, str], problems: list[dict[str, Any]]) -> int | None:
    raw = args.get("after")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        problems.append(problem("/query/after", "expected a journal id (the previous "
                                                "page's last id)"))
        return None
    return int(raw)


def _text(args: Mapping[str, str], name: str, problems: list[dict[str, Any]]) -> str:
    value = (args.get(name) or "").strip()
    if not value or len(value) > 64:
        problems.append(problem(f"/query/{name}", f"{name} is required (1 to 64 characters)"))
    return value


def _time(args: Mapping[str, str], name: str, problems: list[dict[str, Any]],
          required: bool) -> datetime | None:
    raw = args.get(name)
    if raw is None and not required:
        return None
    try:
        parsed = datetime.fromisoformat((raw or "").replace("Z", "+00:00"))
        parsed = parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a time, or out of range once in UTC
        parsed = None
    if parsed is None:
        problems.append(problem(f"/query/{name}", "expected an ISO 8601 time with a zone,"
                                                  " e.g. 2026-12-01T00:00:00Z"))
    return parsed


def _refuse(problems: list[dict[str, Any]]) -> None:
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the query.", problems)


def _known(catalog: Any, location: str | None, skus: list[str]) -> None:
    """404 for a location or SKU the service does not know."""
    if location is not None and location not in catalog.locations:
        raise NotFound(f"No location {location!r}.")
    unknown = [sku for sku in skus if sku not in catalog.products]
    if unknown:
        raise NotFound(f"No product {unknown[0]!r}.")
