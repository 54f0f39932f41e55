"""Master data as the API lists it: products and locations in key order, a page at a time,
optionally only those whose key or name holds a search text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.errors import ValidationFailed, problem

if TYPE_CHECKING:
    from service.services.context import Context

PAGE_LIMIT = 100
PAGE_MAX_LIMIT = 500
MAX_SEARCH = 64
PRODUCT_FIELDS = ("sku", "name", "category", "brand", "vendor", "price", "tags",
                  "attributes")
LOCATION_FIELDS = ("id", "name", "type", "lat", "lon", "postal_code", "country", "region",
                   "can_ship", "can_pickup", "daily_capacity", "processing_hours", "priority",
                   "tags", "active")


def products(ctx: Context, search: str | None, after: str | None,
             limit: int = PAGE_LIMIT) -> dict[str, Any]:
    """A page of products by sku: {"items", "next"} (the cursor of the next page, or null)."""
    return _page(ctx, "product", PRODUCT_FIELDS, search, after, limit)


def locations(ctx: Context, search: str | None, after: str | None,
              limit: int = PAGE_LIMIT) -> dict[str, Any]:
    """A page of locations by id: {"items", "next"}."""
    return _page(ctx, "location", LOCATION_FIELDS, search, after, limit)


def page_limit(raw: str | None, default: int = PAGE_LIMIT) -> int:
    """The page size asked for (default 100), or a 422 when it is not 1..500."""
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_MAX_LIMIT:
        raise ValidationFailed("limit is not valid.", [problem(
            "/query/limit", f"expected 1 to {PAGE_MAX_LIMIT}")])
    return int(raw)


def _page(ctx: Context, entity: str, fields: tuple[str, ...], search: str | None,
          after: str | None, limit: int) -> dict[str, Any]:
    if search is not None and len(search) > MAX_SEARCH:
        raise ValidationFailed("q is too long.", [problem(
            "/query/q", f"expected at most {MAX_SEARCH} characters")])
    with ctx.reading() as uow:
        found = uow.master.page(entity, search, after, limit + 1)
        rows = [_view(row, fields) for row in found[:limit]]
    more = len(found) > limit
    return {"items": rows, "next": rows[-1][fields[0]] if more else None}


def _view(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in fields}
    if "price" in out:
        out["price"] = float(out["price"])
    out["updated_at"] = row.updated_at.isoformat()
    return out
