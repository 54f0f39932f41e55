"""Stock pushed over HTTP: snapshots of one location, deltas of any (within the key's scope)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role, authorize
from service.errors import SnapshotRefused, ValidationFailed, problem
from service.feeds.readers import Batch
from service.feeds.stock_rows import RowError, StockRow, parse_time
from service.services.inventory import runs
from service.services.inventory.deltas import apply_deltas, unknown_rows
from service.services.inventory.report import IngestReport, SnapshotLimitBreached
from service.services.inventory.snapshots import apply_snapshot

if TYPE_CHECKING:
    from service.services.context import Context

Rows = list[dict[str, Any]] | Batch  # a JSON body's items, or rows read with their lines


def _as_of(envelope: dict[str, Any], required: bool) -> Any:
    raw = envelope.get("as_of")
    if raw is None and not required:
        return None
    when = parse_time(raw)
    if when is None:
        raise ValidationFailed("as_of is required.", [problem(
            "/as_of", "expected an ISO-8601 time, e.g. 2026-11-27T06:00:00Z")])
    return when


def _check_scope(role: Role, locations: set[str]) -> None:
    for location in sorted(locations):
        authorize(role, location=location, action="push stock for")


def _numbered(raw: Rows) -> Batch:
    """Rows with their line numbers; a JSON array's by place, as a JSON feed file numbers them."""
    return raw if isinstance(raw, Batch) else Batch.of_items(raw)


def push_snapshot(ctx: Context, role: Role, envelope: dict[str, Any], raw_rows: Rows,
                  force: bool = False) -> dict[str, Any]:
    """Apply one location's full count, atomically, or refuse it with the reason."""
    location = envelope.get("location")
    if not isinstance(location, str) or not location:
        raise ValidationFailed("location is required.", [problem("/location", "required")])
    _check_scope(role, {location})
    batch = _numbered(raw_rows)
    rows, errors = batch.stock_rows(location, _as_of(envelope, True), allow_adjust=False)
    strays = sorted({r.location_id for r in rows} - {location})
    if strays:
        raise ValidationFailed("A snapshot covers one location.", [problem(
            "/items", f"rows for other locations: {', '.join(strays)}")])
    return _run(ctx, f"push:snapshot:{location}", "snapshot", rows, errors, batch.rows_read,
                force)


def push_deltas(ctx: Context, role: Role, envelope: dict[str, Any],
                raw_rows: Rows) -> dict[str, Any]:
    """Apply the good delta rows and report the bad ones. A row without `as_of` takes the
    body's, else the time the push was received (as a feed file's rows take the file's)."""
    batch = _numbered(raw_rows)
    received = _as_of(envelope, False) or ctx.clock.now()
    rows, errors = batch.stock_rows(envelope.get("location"), received, allow_adjust=True)
    _check_scope(role, {r.location_id for r in rows})
    return _run(ctx, "push:deltas", "delta", rows, errors, batch.rows_read)


def _run(ctx: Context, feed: str, kind: str, rows: list[StockRow], errors: list[RowError],
         rows_read: int, force: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with ctx.transaction() as uow:
            uow.journal.because(kind, feed=feed)
            if kind == "snapshot":
                report = apply_snapshot(ctx, uow, rows, errors, rows_read, force)
            else:
                report = apply_deltas(ctx, uow, rows, errors, rows_read)
            run = runs.record(uow, feed, report, started)
            return report.to_dict() | {"run": run.id}
    except SnapshotLimitBreached as exc:
        refused = IngestReport(kind, status="refused", rows_read=rows_read, message=str(exc))
        refused.reject(errors + unknown_rows(ctx, rows))  # as a refused feed file
        run = runs.record_alone(ctx, feed, refused, started)
        raise SnapshotRefused(str(exc), run=run["id"], errors=refused.errors[:100]) from exc
