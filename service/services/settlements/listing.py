"""Settlement records as the API lists them: in id order after a cursor, with their export."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from service.domain.settlements import record_fields, utc_text
from service.errors import ValidationFailed, problem

if TYPE_CHECKING:
    from service.services.context import Context

PAGE_LIMIT = 100
PAGE_MAX_LIMIT = 500
_ID = re.compile(r"^[0-9]{1,18}$")  # as the OpenAPI document states it


def since_id(raw: str | None) -> int:
    """The `since` cursor: a record id (0 or absent: from the first record), else a 422."""
    if raw is None:
        return 0
    if not _ID.match(raw):
        raise ValidationFailed("since is not valid.", [problem(
            "/query/since", "expected a settlement record id: a whole number from 0, up to 18 "
                            "digits (the previous page's `next`)")])
    return int(raw)


def page_limit(raw: str | None) -> int:
    """The page size (default 100), or a 422 when it is not 1..500."""
    if raw is None:
        return PAGE_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= PAGE_MAX_LIMIT:
        raise ValidationFailed("limit is not valid.", [problem(
            "/query/limit", f"expected 1 to {PAGE_MAX_LIMIT}")])
    return int(raw)


def page(ctx: Context, since: int, limit: int = PAGE_LIMIT) -> dict[str, Any]:
    """Records after id `since`: {"items", "next"} (the id to send as since=, or null)."""
    with ctx.reading() as uow:
        rows = uow.settlements.page(since, limit + 1)
        watermark = uow.settlements.watermark()
    items = [_view(row) for row in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next": str(items[-1]["id"]) if more else None,
            "exported_through": watermark}


def _view(row: dict[str, Any]) -> dict[str, Any]:
    out = record_fields(row, None)
    del out["currency"]  # the file's currency is the export's setting, not the record's
    exported = row["exported_at"] is not None and row["file"] is not None
    out["export"] = {"batch": row["batch"], "file": row["file"],
                     "exported_at": utc_text(row["exported_at"])} if exported else None
    return out
