"""Master data use cases: bulk upsert of products and locations, all or nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from service.errors import ValidationFailed, problem
from service.payloads import check, coerce_text_row
from service.services.ats import kept

if TYPE_CHECKING:
    from service.services.context import Context

MAX_ROWS = 100_000
KEYS = {"product": "sku", "location": "id"}


def upsert_products(ctx: Context, rows: list[dict[str, Any]], from_text: bool = False,
                    lines: list[int] | None = None) -> dict:
    """Validate every row, then insert or update them all in one transaction; `lines` (of a
    CSV or NDJSON body) puts each problem's line beside its pointer."""
    return _upsert(ctx, "product", rows, from_text, lines)


def upsert_locations(ctx: Context, rows: list[dict[str, Any]], from_text: bool = False,
                     lines: list[int] | None = None) -> dict:
    """Validate every row, then insert or update them all in one transaction."""
    return _upsert(ctx, "location", rows, from_text, lines)


def _validated(schema: str, rows: list[dict[str, Any]], from_text: bool,
               lines: list[int] | None = None) -> list[dict]:
    key = KEYS[schema]
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            f"At most {MAX_ROWS} rows per request.", [problem("", f"{len(rows)} rows sent")])
    if from_text:
        rows = [coerce_text_row(schema, r) for r in rows]
    problems: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for index, row in enumerate(rows):
        found = check(schema, row, prefix=f"/{index}")
        value = row.get(key)
        if isinstance(value, str) and value in seen:  # other types are schema problems
            found.append(problem(
                f"/{index}/{key}", f"duplicate {key} {value!r} (also row {seen[value]})"))
        if isinstance(value, str):
            seen.setdefault(value, index)
        problems += _on_line(found, lines[index]) if lines else found
    if not rows:
        problems.append(problem("", "no rows"))
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s); nothing was written.", problems)
    return rows


def _on_line(found: list[dict[str, Any]], line: int) -> list[dict[str, Any]]:
    return [p | {"message": f"line {line}: {p['message']}", "line": line} for p in found]


def _record(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    record = dict(row)
    if "price" in record:
        record["price"] = Decimal(str(record["price"]))
    record["updated_at"] = now
    return record


def _upsert(ctx: Context, entity: str, rows: list[dict[str, Any]], from_text: bool,
            lines: list[int] | None) -> dict:
    rows = _validated(entity, rows, from_text, lines)
    now = ctx.clock.now()
    with ctx.transaction() as uow:
        created, updated = uow.master.upsert(entity, [_record(r, now) for r in rows])
        # Rules read product and location facts: every channel's ATS may move.
        uow.activations.lock_for_switch()
        kept.recompute(uow, ctx.rules.active(uow))
    return {"received": len(rows), "created": created, "updated": updated}
