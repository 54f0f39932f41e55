"""Stock ingestion: snapshots and deltas, from pushes and feeds, with their safety rules.

A delta applies its good rows and reports the bad ones. A snapshot (per location) applies
atomically or not at all, and is refused when it would zero too many positions or holds too
many bad rows. Channel figures move in the same transaction as the stock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.context import Context
from service.domain.ledger import Position, Update, Verdict, apply_update, zeroed_share
from service.services import channel_figures
from service.services.channel_figures import PositionFigures
from service.services.stock_rows import RowError, StockRow, collector_paused
from service.store import positions as store
from service.store.positions import PositionRow


@dataclass
class IngestReport:
    """What a push or a feed run did, row by row."""

    kind: str
    status: str = "ok"
    rows_read: int = 0
    applied: int = 0
    unchanged: int = 0
    stale: int = 0
    zeroed: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    ruleset: str | None = None

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += len(errors)
        self.errors.extend(e.to_dict() for e in errors)
        self.errors.sort(key=lambda e: e["line"])

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SnapshotRefused(Exception):
    """A snapshot breaks a safety limit; nothing of it is applied."""


def _figures(row: PositionRow) -> PositionFigures:
    return PositionFigures(row.location_id, row.sku, row.on_hand, row.allocated, row.reserved)


def _known(ctx: Context, session: Session, rows: list[StockRow]
           ) -> tuple[list[StockRow], list[RowError]]:
    catalog = ctx.catalog.get(session)
    locations, products = catalog.locations, catalog.products
    if all(row.location_id in locations and row.sku in products for row in rows):
        return rows, []  # the usual case, checked without building a second list
    good, bad = [], []
    for row in rows:
        if row.location_id not in catalog.locations:
            bad.append(RowError(row.line, f"unknown location {row.location_id!r}", row.sku,
                                row.location_id))
        elif row.sku not in catalog.products:
            bad.append(RowError(row.line, f"unknown sku {row.sku!r}", row.sku, row.location_id))
        else:
            good.append(row)
    return good, bad


def apply_deltas(ctx: Context, session: Session, rows: list[StockRow],
                 errors: list[RowError], rows_read: int) -> IngestReport:
    """Apply the good rows in order (row-locked), report the bad; in the caller's txn."""
    report = IngestReport("delta", rows_read=rows_read)
    rows, unknown = _known(ctx, session, rows)
    report.reject(errors + unknown)
    keys = {(r.location_id, r.sku) for r in rows}
    store.ensure_positions(session, keys)  # two first deltas for one new position both apply
    current = store.fetch_keys(session, keys, lock=True)
    snapshots = store.snapshot_times(session, {r.location_id for r in rows})
    before = {key: _figures(row) for key, row in current.items()}
    touched: set[tuple[str, str]] = set()
    for row in sorted(rows, key=lambda r: (r.as_of, r.line)):
        key = (row.location_id, row.sku)
        verdict = _apply_row(current, key, row, snapshots.get(row.location_id))
        _count(report, verdict)
        if verdict is not Verdict.STALE:
            touched.add(key)
    stored = [current[key] for key in sorted(touched)]
    changed = [row for row in stored
               if row.id is None or before[(row.location_id, row.sku)].on_hand != row.on_hand]
    _write(ctx, session, report, stored, before, changed)
    return report


def _apply_row(current: dict[tuple[str, str], PositionRow], key: tuple[str, str],
               row: StockRow, snapshot_as_of: datetime | None) -> Verdict:
    existing = current.get(key)
    position = None if existing is None else Position(
        existing.on_hand, _effective_as_of(existing.as_of, snapshot_as_of),
        existing.allocated, existing.reserved)
    verdict, after = apply_update(position, Update(row.as_of, row.on_hand, row.adjust))
    if verdict is Verdict.STALE:
        return verdict
    if existing is None:
        current[key] = PositionRow(None, row.location_id, row.sku, after.on_hand, 0, 0,
                                   after.as_of)
    else:
        existing.on_hand, existing.as_of = after.on_hand, after.as_of
    return verdict


def _effective_as_of(position_as_of: datetime | None, snapshot_as_of: datetime | None
                     ) -> datetime | None:
    known = [t for t in (position_as_of, snapshot_as_of) if t is not None]
    return max(known) if known else None


def _count(report: IngestReport, verdict: Verdict) -> None:
    if verdict is Verdict.APPLIED:
        report.applied += 1
    elif verdict is Verdict.UNCHANGED:
        report.unchanged += 1
    else:
        report.stale += 1


def _write(ctx: Context, session: Session, report: IngestReport, rows: list[PositionRow],
           before: dict[tuple[str, str], PositionFigures], changed: list[PositionRow]) -> None:
    store.write_counts(session, rows)
    ruleset = ctx.rules.active(session)
    report.ruleset = ruleset.ref
    catalog = ctx.catalog.get(session)
    moves = [(before.get((r.location_id, r.sku)), _figures(r)) for r in changed]
    channel_figures.apply_deltas(session, ruleset,
                                 channel_figures.channel_deltas(ruleset, catalog, moves))


def apply_snapshot(ctx: Context, session: Session, rows: list[StockRow],
                   errors: list[RowError], rows_read: int, force: bool = False) -> IngestReport:
    """Apply full snapshots (one per location in rows) atomically, or refuse them all.

    Every location is checked first (staleness, the zeroing limit), against only the
    differences the database reports (store.diff_counts); then all changes are locked,
    written and reflected in the channel figures at once.
    """
    with collector_paused():  # a big snapshot builds hundreds of thousands of acyclic objects
        return _apply_snapshot(ctx, session, rows, errors, rows_read, force)


def _apply_snapshot(ctx: Context, session: Session, rows: list[StockRow],
                    errors: list[RowError], rows_read: int, force: bool) -> IngestReport:
    report = IngestReport("snapshot", rows_read=rows_read)
    rows, unknown = _known(ctx, session, rows)
    report.reject(errors + unknown)
    limits = ctx.settings.section("inventory")
    if rows_read and report.rejected / rows_read > limits["max_bad_row_share"]:
        raise SnapshotRefused(
            f"{report.rejected} of {rows_read} rows are bad (limit "
            f"{limits['max_bad_row_share']:.0%}): the snapshot is refused, nothing applied")
    by_location: dict[str, list[StockRow]] = defaultdict(list)
    for row in rows:
        by_location[row.location_id].append(row)
    bad_skus = {(e.location_id, e.sku) for e in errors + unknown if e.sku}
    snapshots = store.snapshot_times(session, by_location)
    fresh = {loc: loc_rows for loc, loc_rows in by_location.items()
             if not _stale_snapshot(report, loc_rows, snapshots[loc])}
    diffs = store.diff_counts(session, {loc: {r.sku: r.on_hand or 0 for r in loc_rows}
                                        for loc, loc_rows in fresh.items()})
    plans = [_plan_location(report, loc, fresh[loc], diffs[loc], bad_skus, force,
                            limits["max_zeroed_share"]) for loc in sorted(fresh)]
    if plans:
        _apply_plans(ctx, session, report, plans)
    return report


@dataclass
class _LocationPlan:
    """The writes one location's snapshot asks for, checked against the safety limits."""

    location_id: str
    as_of: datetime
    wanted: dict[str, int]
    current: dict[str, PositionRow | None]


def _stale_snapshot(report: IngestReport, rows: list[StockRow],
                    snapshot_as_of: datetime | None) -> bool:
    """A snapshot older than the location's newest applied one is stale as a whole."""
    if snapshot_as_of is not None and max(r.as_of for r in rows) < snapshot_as_of:
        report.stale += len(rows)
        return True
    return False


def _plan_location(report: IngestReport, location_id: str, rows: list[StockRow],
                   diff: store.LocationDiff, bad: set, force: bool, max_zeroed: float
                   ) -> _LocationPlan:
    as_of = max(r.as_of for r in rows)
    counted = {r.sku: r for r in rows}
    zero = [pos.sku for pos in diff.uncounted
            if (location_id, pos.sku) not in bad and (pos.as_of is None or pos.as_of <= as_of)]

    def stored_on_hand(sku: str) -> int:
        if sku in diff.changed:
            current = diff.changed[sku][1]
            return current.on_hand if current is not None else 0
        return counted[sku].on_hand or 0  # unchanged: stored equals counted

    share = zeroed_share(diff.stocked, len(zero) + sum(
        1 for r in rows if r.on_hand == 0 and stored_on_hand(r.sku)))
    if share > max_zeroed and not force:
        raise SnapshotRefused(
            f"the snapshot of {location_id} would zero {share:.0%} of its stocked positions "
            f"(limit {max_zeroed:.0%}): refused, nothing applied; send force=true if intended")
    zero_set = set(zero)
    current: dict[str, PositionRow | None] = {sku: pos for sku, (_q, pos) in diff.changed.items()}
    current.update({pos.sku: pos for pos in diff.uncounted if pos.sku in zero_set})
    wanted = {sku: qty for sku, (qty, _pos) in diff.changed.items()}
    wanted.update({sku: 0 for sku in zero})
    stale = {sku for sku, pos in current.items()
             if pos is not None and pos.as_of is not None and pos.as_of > as_of}
    report.stale += len(stale)
    report.zeroed += len(zero)
    report.applied += len([s for s in diff.changed if s not in stale])
    report.unchanged += len(counted) - len(diff.changed)
    for sku in stale:
        del wanted[sku], current[sku]
    return _LocationPlan(location_id, as_of, wanted, current)


def _apply_plans(ctx: Context, session: Session, report: IngestReport,
                 plans: list[_LocationPlan]) -> None:
    """Lock what changes, recheck it, write every location's counts and the figures once."""
    ids = [pos.id for plan in plans for pos in plan.current.values()
           if pos is not None and pos.id is not None]
    locked = store.lock_ids(session, ids)
    before: dict[tuple[str, str], PositionFigures] = {}
    after: list[PositionRow] = []
    for plan in plans:
        for sku in sorted(plan.wanted):
            pos = plan.current[sku]
            old = locked.get(pos.id) if pos is not None and pos.id is not None else None
            if old is not None and old.as_of is not None and old.as_of > plan.as_of:
                report.stale += 1  # shipped (or counted) meanwhile, after this snapshot
                continue
            if old is not None:
                before[(plan.location_id, sku)] = _figures(old)
            after.append(PositionRow(old.id if old else None, plan.location_id, sku,
                                     plan.wanted[sku], old.allocated if old else 0,
                                     old.reserved if old else 0, plan.as_of))
    _write(ctx, session, report, after, before, after)
    store.record_snapshot_times(session, {plan.location_id: plan.as_of for plan in plans})
