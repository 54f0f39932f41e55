"""Full snapshots of locations: applied atomically, or refused by a safety limit.

A snapshot (per location) applies atomically or not at all, and is refused when it would zero
too many positions or holds too many bad rows. This is the Python path (any database, any
file); `snapshot_copy` reads large CSV files on PostgreSQL and hands the same per-location
counts to the same checks here (`check_bad_rows`, `fresh_locations`, `apply_counted`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from service.feeds.stock_rows import RowError, StockRow, collector_paused
from service.services.inventory.deltas import known_rows
from service.services.inventory.report import IngestReport, SnapshotLimitBreached
from service.services.inventory.snapshot_plans import CountedLocation, apply_plans, plan_location
from service.store.position_diff import LocationDiff
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def apply_snapshot(ctx: Context, uow: UnitOfWork, rows: list[StockRow],
                   errors: list[RowError], rows_read: int, force: bool = False) -> IngestReport:
    """Apply full snapshots (one per location in rows) atomically, or refuse them all.

    Every location is checked first (staleness, the zeroing limit), against only the
    differences the database reports (store.diff_counts); then all changes are locked,
    written and reflected in the ATS at once.
    """
    with collector_paused():  # a big snapshot builds hundreds of thousands of acyclic objects
        return _apply_snapshot(ctx, uow, rows, errors, rows_read, force)


def _apply_snapshot(ctx: Context, uow: UnitOfWork, rows: list[StockRow],
                    errors: list[RowError], rows_read: int, force: bool) -> IngestReport:
    report = IngestReport("snapshot", rows_read=rows_read)
    rows, unknown = known_rows(uow, rows)
    check_bad_rows(ctx, report, errors + unknown)
    by_location: dict[str, list[StockRow]] = defaultdict(list)
    for row in rows:
        by_location[row.location_id].append(row)
    counted = {loc: CountedLocation(max(r.as_of for r in loc_rows), len(loc_rows),
                                    len({r.sku for r in loc_rows}))
               for loc, loc_rows in by_location.items()}
    fresh = fresh_locations(uow, report, counted)
    counts = {loc: {r.sku: r.on_hand or 0 for r in by_location[loc]} for loc in fresh}
    diffs = uow.positions.diff_counts(counts, work_mem_max_mb(ctx))
    for loc in fresh:
        counted[loc].newly_zero = _newly_zero(by_location[loc], counts[loc], diffs[loc])
    apply_counted(ctx, uow, report, {loc: counted[loc] for loc in fresh}, diffs,
                  errors + unknown, force)
    return report


def work_mem_max_mb(ctx: Context) -> int:
    """The most working memory (MB) a snapshot's diff is given on PostgreSQL."""
    return ctx.settings.section("inventory")["snapshot_work_mem_max_mb"]


def check_bad_rows(ctx: Context, report: IngestReport, errors: list[RowError]) -> None:
    """Report the bad rows; refuse the snapshot when they are too large a share of it."""
    report.reject(errors)
    limit = ctx.settings.section("inventory")["max_bad_row_share"]
    if report.rows_read and report.rejected / report.rows_read > limit:
        raise SnapshotLimitBreached(
            f"{report.rejected} of {report.rows_read} rows are bad (limit "
            f"{limit:.0%}): the snapshot is refused, nothing applied")


def fresh_locations(uow: UnitOfWork, report: IngestReport,
                    counted: dict[str, CountedLocation]) -> list[str]:
    """Locations whose snapshot is not older than their newest applied one (stale: counted)."""
    snapshots = uow.positions.snapshot_times(counted)
    fresh = []
    for loc, location in counted.items():
        if snapshots[loc] is not None and location.as_of < snapshots[loc]:
            report.stale += location.rows  # stale as a whole
        else:
            fresh.append(loc)
    return fresh


def _newly_zero(rows: list[StockRow], counts: dict[str, int], diff: LocationDiff) -> int:
    def stored_on_hand(sku: str) -> int:
        if sku in diff.changed:
            current = diff.changed[sku][1]
            return current.on_hand if current is not None else 0
        return counts[sku]  # unchanged: stored equals counted

    return sum(1 for r in rows if r.on_hand == 0 and stored_on_hand(r.sku))


def apply_counted(ctx: Context, uow: UnitOfWork, report: IngestReport,
                  counted: dict[str, CountedLocation], diffs: dict[str, LocationDiff],
                  errors: list[RowError], force: bool) -> None:
    """Check every location against the zeroing limit, then write all their changes at once."""
    max_zeroed = ctx.settings.section("inventory")["max_zeroed_share"]
    bad_skus = {(e.location_id, e.sku) for e in errors if e.sku}
    plans = [plan_location(report, loc, counted[loc], diffs[loc], bad_skus, force, max_zeroed)
             for loc in sorted(counted)]
    if plans:
        apply_plans(ctx, uow, report, plans)
