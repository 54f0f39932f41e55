"""Stock deltas: absolute counts or signed adjustments per position, good rows applied.

A delta applies its good rows in time order (row-locked) and reports the bad ones; an update
older than what the position knows is stale (counted, never applied). The ATS moves in the
same transaction as the stock.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from service.domain.ledger import OverMaximum, Position, Update, Verdict, apply_update, latest
from service.feeds.stock_rows import RowError, StockRow, split_known
from service.services.ats.position import PositionStock
from service.services.inventory.report import IngestReport
from service.services.inventory.stock_changes import move_ats_of
from service.store.position_rows import PositionRow
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

Key = tuple[str, str]


def known_rows(uow: UnitOfWork, rows: list[StockRow]) -> tuple[list[StockRow], list[RowError]]:
    """The rows naming a known location and sku, and an error for each of the others."""
    catalog = uow.catalog()
    return split_known(rows, catalog.locations, catalog.products)


def unknown_rows(ctx: Context, rows: list[StockRow]) -> list[RowError]:
    """Rows naming a location or sku the catalog lacks (a refused snapshot lists them too)."""
    with ctx.reading() as uow:
        return known_rows(uow, rows)[1]


def apply_deltas(ctx: Context, uow: UnitOfWork, rows: list[StockRow],
                 errors: list[RowError], rows_read: int) -> IngestReport:
    """Apply the good rows in order (row-locked), report the bad; in the caller's txn."""
    report = IngestReport("delta", rows_read=rows_read)
    rows, unknown = known_rows(uow, rows)
    report.reject(errors + unknown)
    keys = {(r.location_id, r.sku) for r in rows}
    uow.positions.ensure(keys)  # two first deltas for one new position both apply
    current = uow.positions.fetch(keys, lock=True)
    snapshots = uow.positions.snapshot_times({r.location_id for r in rows})
    before = {key: PositionStock.of(row) for key, row in current.items()}
    touched: set[Key] = set()
    for row in sorted(rows, key=lambda r: (r.as_of, r.line)):
        key = (row.location_id, row.sku)
        try:
            verdict = _apply_row(current, key, row, snapshots.get(row.location_id))
        except OverMaximum as exc:
            report.reject([RowError(row.line, str(exc), row.sku, row.location_id)])
            continue
        count_verdict(report, verdict)
        if verdict is not Verdict.STALE:
            touched.add(key)
    stored = [current[key] for key in sorted(touched)]
    changed = [row for row in stored
               if row.id is None or before[(row.location_id, row.sku)].on_hand != row.on_hand]
    uow.positions.write_counts(stored)
    ruleset = ctx.rules.active(uow)
    report.ruleset = ruleset.ref
    move_ats_of(uow, ruleset, before, changed)
    if report.rejected and not (report.applied or report.unchanged or report.stale):
        report.status = "rejected"  # every row was bad: nothing of the request was taken
    return report


def _apply_row(current: dict[Key, PositionRow], key: Key, row: StockRow,
               snapshot_as_of: datetime | None) -> Verdict:
    existing = current.get(key)
    position = None if existing is None else Position(
        existing.on_hand, latest(existing.as_of, snapshot_as_of),
        existing.allocated, existing.reserved, existing.shipped_at)
    verdict, after = apply_update(position, Update(row.as_of, row.on_hand, row.adjust))
    if verdict is Verdict.STALE:
        return verdict
    if existing is None:
        current[key] = PositionRow(None, row.location_id, row.sku, after.on_hand, 0, 0,
                                   after.as_of)
    else:
        existing.on_hand, existing.as_of = after.on_hand, after.as_of
    return verdict


def count_verdict(report: IngestReport, verdict: Verdict) -> None:
    """Count one row's verdict in the report."""
    if verdict is Verdict.APPLIED:
        report.applied += 1
    elif verdict is Verdict.UNCHANGED:
        report.unchanged += 1
    else:
        report.stale += 1
