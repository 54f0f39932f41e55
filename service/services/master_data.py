"""Master data use cases: bulk upsert of products and locations, all or nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service.context import Context
from service.errors import ValidationFailed, problem
from service.services import channel_figures, payloads, rulesets
from service.store.models import Location, Product, tags_text, utcnow
from service.store.upsert import upsert_rows

MAX_ROWS = 100_000


def upsert_products(ctx: Context, rows: list[dict[str, Any]], from_text: bool = False) -> dict:
    """Validate every row, then insert or update them all in one transaction."""
    rows = _validated("product", rows, from_text, key="sku")
    records = [_product_record(r) for r in rows]
    return _upsert(ctx, Product, records, "sku")


def upsert_locations(ctx: Context, rows: list[dict[str, Any]], from_text: bool = False) -> dict:
    """Validate every row, then insert or update them all in one transaction."""
    rows = _validated("location", rows, from_text, key="id")
    records = [_location_record(r) for r in rows]
    return _upsert(ctx, Location, records, "id")


def _validated(schema: str, rows: list[dict[str, Any]], from_text: bool, key: str) -> list[dict]:
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            f"At most {MAX_ROWS} rows per request.", [problem("", f"{len(rows)} rows sent")]
        )
    if from_text:
        rows = [payloads.coerce_text_row(schema, r) for r in rows]
    problems: list[dict[str, Any]] = []
    seen: dict[Any, int] = {}
    for index, row in enumerate(rows):
        problems += payloads.check(schema, row, prefix=f"/{index}")
        if key in row and row[key] in seen:
            problems.append(
                problem(
                    f"/{index}/{key}", f"duplicate {key} {row[key]!r} (also row {seen[row[key]]})"
                )
            )
        seen.setdefault(row.get(key), index)
    if not rows:
        problems.append(problem("", "no rows"))
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s); nothing was written.", problems)
    return rows


def _product_record(row: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    if "price" in record:
        record["price"] = Decimal(str(record["price"]))
    if "tags" in record:
        record["tags_text"] = tags_text(record["tags"])
    record["updated_at"] = utcnow()
    return record


def _location_record(row: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    if "tags" in record:
        record["tags_text"] = tags_text(record["tags"])
    record["updated_at"] = utcnow()
    return record


def _upsert(ctx: Context, model: Any, records: list[dict], key: str) -> dict:
    defaults = _insert_defaults(model)
    full = [{**defaults, **r} for r in records]
    with ctx.sessions.begin() as session:
        created, updated = upsert_rows(session, model.__table__, full, key)
        # Rules read product and location facts: every channel figure may move.
        rulesets.lock_for_recompute(session)
        channel_figures.recompute(session, ctx.rules.active(session))
    ctx.catalog.invalidate()
    return {"received": len(records), "created": created, "updated": updated}


def _insert_defaults(model: Any) -> dict[str, Any]:
    """Python-side column defaults, so a multi-row INSERT has every column."""
    out: dict[str, Any] = {}
    for column in model.__table__.columns:
        default = column.default
        if default is None or column.primary_key or default.is_callable:
            continue
        out[column.name] = default.arg
    return out
