"""Stock ingestion: snapshots and deltas, from pushes and feeds, with their safety rules.

A delta applies its good rows and reports the bad ones. A snapshot (per location) applies
atomically or not at all, and is refused when it would zero too many positions or holds too
many bad rows. Channel figures move in the same transaction as the stock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.context import Context
from service.domain.ledger import (
    Position,
    Update,
    Verdict,
    apply_update,
    latest,
    zeroed_share,
)
from service.services import channel_figures
from service.services.channel_figures import PositionFigures
from service.services.stock_rows import RowError, StockRow, collector_paused, split_known
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
    """A snapshot breaks a safety limit; nothing of it is applied.

    ``errors`` and ``rows_read`` are set when the refusing path read the file itself (the
    COPY path, whose rows never become StockRows); otherwise the caller has them.
    """

    def __init__(self, message: str, errors: list[RowError] | None = None,
                 rows_read: int = 0) -> None:
        super().__init__(message)
        self.errors, self.rows_read = errors, rows_read


def _figures(row: PositionRow) -> PositionFigures:
    return PositionFigures(row.location_id, row.sku, row.on_hand, row.allocated, row.reserved)


def _known(ctx: Context, session: Session, rows: list[StockRow]
           ) -> tuple[list[StockRow], list[RowError]]:
    catalog = ctx.catalog.get(session)
    return split_known(rows, catalog.locations, catalog.products)


def unknown_rows(ctx: Context, rows: list[StockRow]) -> list[RowError]:
    """Rows naming a location or sku the catalog lacks (a refused snapshot lists them too)."""
    with ctx.sessions() as session:
        return _known(ctx, session, rows)[1]


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
    _reflect(ctx, session, report, before, changed)


def _reflect(ctx: Context, session: Session, report: IngestReport,
             before: dict[tuple[str, str], PositionFigures], changed: list[PositionRow]) -> None:
    """Move the channel figures by what the changed positions now sell."""
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
    check_bad_rows(ctx, report, errors + unknown)
    by_location: dict[str, list[StockRow]] = defaultdict(list)
    for row in rows:
        by_location[row.location_id].append(row)
    counted = {loc: CountedLocation(max(r.as_of for r in loc_rows), len(loc_rows),
                                    len({r.sku for r in loc_rows}))
               for loc, loc_rows in by_location.items()}
    fresh = fresh_locations(session, report, counted)
    counts = {loc: {r.sku: r.on_hand or 0 for r in by_location[loc]} for loc in fresh}
    diffs = store.diff_counts(session, counts)
    for loc in fresh:
        counted[loc].newly_zero = _newly_zero(by_location[loc], counts[loc], diffs[loc])
    apply_counted(ctx, session, report, {loc: counted[loc] for loc in fresh}, diffs,
                  errors + unknown, force)
    return report


@dataclass
class CountedLocation:
    """One location's good rows in a snapshot, as the safety checks see them."""

    as_of: datetime  # the newest row's time: the snapshot's time
    rows: int  # good rows (a repeated sku counts each time)
    skus: int  # distinct skus counted
    newly_zero: int = 0  # rows counting 0 where the stored count is not 0 (once diffed)


def check_bad_rows(ctx: Context, report: IngestReport, errors: list[RowError]) -> None:
    """Report the bad rows; refuse the snapshot when they are too large a share of it."""
    report.reject(errors)
    limit = ctx.settings.section("inventory")["max_bad_row_share"]
    if report.rows_read and report.rejected / report.rows_read > limit:
        raise SnapshotRefused(
            f"{report.rejected} of {report.rows_read} rows are bad (limit "
            f"{limit:.0%}): the snapshot is refused, nothing applied")


def fresh_locations(session: Session, report: IngestReport,
                    counted: dict[str, CountedLocation]) -> list[str]:
    """Locations whose snapshot is not older than their newest applied one (stale: counted)."""
    snapshots = store.snapshot_times(session, counted)
    fresh = []
    for loc, location in counted.items():
        if snapshots[loc] is not None and location.as_of < snapshots[loc]:
            report.stale += location.rows  # stale as a whole
        else:
            fresh.append(loc)
    return fresh


def _newly_zero(rows: list[StockRow], counts: dict[str, int], diff: store.LocationDiff) -> int:
    def stored_on_hand(sku: str) -> int:
        if sku in diff.changed:
            current = diff.changed[sku][1]
            return current.on_hand if current is not None else 0
        return counts[sku]  # unchanged: stored equals counted

    return sum(1 for r in rows if r.on_hand == 0 and stored_on_hand(r.sku))


def apply_counted(ctx: Context, session: Session, report: IngestReport,
                  counted: dict[str, CountedLocation], diffs: dict[str, store.LocationDiff],
                  errors: list[RowError], force: bool) -> None:
    """Check every location against the zeroing limit, then write all their changes at once."""
    max_zeroed = ctx.settings.section("inventory")["max_zeroed_share"]
    bad_skus = {(e.location_id, e.sku) for e in errors if e.sku}
    plans = [_plan_location(report, loc, counted[loc], diffs[loc], bad_skus, force, max_zeroed)
             for loc in sorted(counted)]
    if plans:
        _apply_plans(ctx, session, report, plans)


@dataclass
class _LocationPlan:
    """The writes one location's snapshot asks for, checked against the safety limits."""

    location_id: str
    as_of: datetime
    wanted: dict[str, int]
    current: dict[str, PositionRow | None]
    zeroing: set[str] = field(default_factory=set)  # skus absent from the snapshot


def _count_moved(report: IngestReport, plan: _LocationPlan, sku: str) -> None:
    """A planned write found its position counted (or shipped) after the snapshot: a counted
    row becomes stale instead of applied; a zeroing of an absent sku simply does not happen."""
    if sku in plan.zeroing:
        report.zeroed -= 1
    else:
        report.applied -= 1
        report.stale += 1


def _plan_location(report: IngestReport, location_id: str, counted: CountedLocation,
                   diff: store.LocationDiff, bad: set, force: bool, max_zeroed: float
                   ) -> _LocationPlan:
    as_of = counted.as_of
    zero = [pos.sku for pos in diff.uncounted
            if (location_id, pos.sku) not in bad
            and (pos.counts_from is None or pos.counts_from <= as_of)]
    share = zeroed_share(diff.stocked, len(zero) + counted.newly_zero)
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
             if pos is not None and pos.counts_from is not None and pos.counts_from > as_of}
    report.stale += len(stale)
    report.zeroed += len(zero)
    report.applied += len([s for s in diff.changed if s not in stale])
    # every row is counted once: a sku counted twice sets its count by its last row, and
    # the rows before it change nothing
    report.unchanged += counted.rows - len(diff.changed)
    for sku in stale:
        del wanted[sku], current[sku]
    return _LocationPlan(location_id, as_of, wanted, current, zero_set)


_Change = tuple[_LocationPlan, str, PositionRow | None]  # plan, sku, the position as read


def _apply_plans(ctx: Context, session: Session, report: IngestReport,
                 plans: list[_LocationPlan]) -> None:
    """Write every location's counts (rechecked against what is stored) and the figures once."""
    changes = [(plan, sku, plan.current[sku]) for plan in plans for sku in sorted(plan.wanted)]
    if store.locked(session) and len(changes) >= store.BULK_ROWS:
        _write_bulk(ctx, session, report, changes)
    else:
        before, after = _write_locked(session, report, changes)
        _reflect(ctx, session, report, before, after)
    store.record_snapshot_times(session, {plan.location_id: plan.as_of for plan in plans})


def _write_bulk(ctx: Context, session: Session, report: IngestReport,
                changes: list[_Change]) -> None:
    """PostgreSQL, many rows: one ordered UPDATE of the positions still as read (no lock pass
    first), the figure deltas worked out from the positions as read while the database
    writes; positions that moved meanwhile, and new ones, go the locked way and any guess
    the write contradicts is taken back, so the figures move exactly as the stock did."""
    ruleset, catalog = ctx.rules.active(session), ctx.catalog.get(session)
    report.ruleset = ruleset.ref
    read = [(plan, sku, pos) for plan, sku, pos in changes if pos is not None and pos.id]
    moves: dict[int, tuple[PositionFigures, PositionFigures]] = {}

    def guess() -> dict[tuple[str, str], int]:  # runs while the database writes
        moves.update({pos.id: (_figures(pos), PositionFigures(
            plan.location_id, sku, plan.wanted[sku], pos.allocated, pos.reserved))
            for plan, sku, pos in read})
        return channel_figures.channel_deltas(ruleset, catalog, moves.values())

    written, deltas = store.update_counts_unless_moved(
        session, [(pos, plan.wanted[sku], plan.as_of) for plan, sku, pos in read],
        meanwhile=guess)
    fixes: list[tuple[PositionFigures | None, PositionFigures]] = []
    for pid, (before, after) in moves.items():
        if written.get(pid) != (before.allocated, before.reserved):
            fixes.append((after, before))  # take the guess back
            if pid in written:  # written, but allocations moved meanwhile: the real move
                allocated, reserved = written[pid]
                fixes.append((replace(before, allocated=allocated, reserved=reserved),
                              replace(after, allocated=allocated, reserved=reserved)))
    rest = [change for change in changes if change[2] is None or change[2].id not in written]
    rest_before, rest_after = _write_locked(session, report, rest)
    fixes += [(rest_before.get((r.location_id, r.sku)), _figures(r)) for r in rest_after]
    total = Counter(deltas or {})
    total.update(channel_figures.channel_deltas(ruleset, catalog, fixes))
    channel_figures.apply_deltas(session, ruleset, {k: v for k, v in total.items() if v})


def _write_locked(session: Session, report: IngestReport, changes: list[_Change]
                  ) -> tuple[dict[tuple[str, str], PositionFigures], list[PositionRow]]:
    """Lock what changes, recheck it against the snapshot's time, write it."""
    ids = [pos.id for _plan, _sku, pos in changes if pos is not None and pos.id is not None]
    locked = store.lock_ids(session, ids)
    before: dict[tuple[str, str], PositionFigures] = {}
    after: list[PositionRow] = []
    for plan, sku, pos in changes:
        old = locked.get(pos.id) if pos is not None and pos.id is not None else None
        if old is not None and old.counts_from is not None and old.counts_from > plan.as_of:
            _count_moved(report, plan, sku)  # shipped (or counted) meanwhile
            continue
        if old is not None:
            before[(plan.location_id, sku)] = _figures(old)
        after.append(PositionRow(old.id if old else None, plan.location_id, sku,
                                 plan.wanted[sku], old.allocated if old else 0,
                                 old.reserved if old else 0, plan.as_of))
    store.write_counts(session, after)
    return before, after
