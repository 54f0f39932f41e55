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
from service.services.stock_rows import RowError, StockRow
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
    current = store.fetch_keys(session, {(r.location_id, r.sku) for r in rows}, lock=True)
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
    """Apply full snapshots (one per location in rows) atomically, or refuse them all."""
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
    for location_id, location_rows in sorted(by_location.items()):
        _snapshot_location(ctx, session, report, location_id, location_rows, bad_skus,
                           force, limits["max_zeroed_share"])
    return report


def _snapshot_location(ctx: Context, session: Session, report: IngestReport, location_id: str,
                       rows: list[StockRow], bad: set, force: bool, max_zeroed: float) -> None:
    as_of = max(r.as_of for r in rows)
    current = store.fetch_location(session, location_id)
    snapshot_as_of = store.snapshot_times(session, [location_id])[location_id]
    if snapshot_as_of is not None and as_of < snapshot_as_of:
        report.stale += len(rows)
        return
    counted = {r.sku: r for r in rows}
    zero = [sku for sku, pos in current.items()
            if sku not in counted and (location_id, sku) not in bad and pos.on_hand > 0
            and (pos.as_of is None or pos.as_of <= as_of)]
    stocked = sum(1 for p in current.values() if p.on_hand > 0)
    share = zeroed_share(stocked, len(zero) + sum(
        1 for r in rows if r.on_hand == 0 and current.get(r.sku) and current[r.sku].on_hand))
    if share > max_zeroed and not force:
        raise SnapshotRefused(
            f"the snapshot of {location_id} would zero {share:.0%} of its stocked positions "
            f"(limit {max_zeroed:.0%}): refused, nothing applied; send force=true if intended")
    _apply_location_counts(ctx, session, report, location_id, current, counted, zero, as_of)


def _apply_location_counts(ctx: Context, session: Session, report: IngestReport,
                           location_id: str, current: dict[str, PositionRow],
                           counted: dict[str, StockRow], zero: list[str], as_of: datetime
                           ) -> None:
    wanted: dict[str, int] = {sku: r.on_hand or 0 for sku, r in counted.items()}
    wanted.update({sku: 0 for sku in zero})
    diff = [sku for sku, qty in wanted.items()
            if sku not in current or current[sku].on_hand != qty]
    stale = {sku for sku in diff if sku in current and current[sku].as_of is not None
             and current[sku].as_of > as_of}
    report.stale += len(stale)
    report.zeroed += len([s for s in zero if s not in stale])
    diff = [sku for sku in diff if sku not in stale]
    report.applied += len([s for s in diff if s in counted])
    report.unchanged += len(counted) - len([s for s in counted if s in diff or s in stale])
    locked = store.lock_ids(session, [current[s].id for s in diff if s in current])
    before, after = {}, []
    for sku in diff:
        old = locked.get(current[sku].id) if sku in current else None
        if old is not None and old.as_of is not None and old.as_of > as_of:
            report.stale += 1  # shipped (or counted) meanwhile, after this snapshot was taken
            continue
        if old is not None:
            before[(location_id, sku)] = _figures(old)
        after.append(PositionRow(old.id if old else None, location_id, sku, wanted[sku],
                                 old.allocated if old else 0, old.reserved if old else 0,
                                 as_of))
    _write(ctx, session, report, after, before, after)
    store.record_snapshot_time(session, location_id, as_of)
