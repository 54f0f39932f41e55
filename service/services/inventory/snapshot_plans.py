"""What one location's snapshot writes, checked against the zeroing limit, and the writes.

Counts are written rechecked against what is stored: a position counted or shipped after the
snapshot keeps its newer count. On PostgreSQL many rows go in one ordered UPDATE without a
lock pass first (`_write_bulk`); the ATS moves exactly as the stock did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from service.domain.ledger import zeroed_share
from service.services.ats import kept
from service.services.ats.deltas import arrivals, channel_deltas
from service.services.ats.position import PositionStock
from service.services.inventory.report import IngestReport, SnapshotLimitBreached
from service.services.inventory.stock_changes import move_ats_of
from service.store.position_diff import LocationDiff
from service.store.position_rows import PositionRow
from service.store.positions import BULK_ROWS
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


@dataclass
class CountedLocation:
    """One location's good rows in a snapshot, as the safety checks see them."""

    as_of: datetime  # the newest row's time: the snapshot's time
    rows: int  # good rows (a repeated sku counts each time)
    skus: int  # distinct skus counted
    newly_zero: int = 0  # rows counting 0 where the stored count is not 0 (once diffed)


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


def plan_location(report: IngestReport, location_id: str, counted: CountedLocation,
                  diff: LocationDiff, bad: set, force: bool, max_zeroed: float
                  ) -> _LocationPlan:
    """The writes one location's snapshot asks for; refused past the zeroing limit."""
    as_of = counted.as_of
    zero = [pos.sku for pos in diff.uncounted
            if (location_id, pos.sku) not in bad
            and (pos.counts_from is None or pos.counts_from <= as_of)]
    share = zeroed_share(diff.stocked, len(zero) + counted.newly_zero)
    if share > max_zeroed and not force:
        raise SnapshotLimitBreached(
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


def apply_plans(ctx: Context, uow: UnitOfWork, report: IngestReport,
                plans: list[_LocationPlan]) -> None:
    """Write every location's counts (rechecked against what is stored) and the ATS once."""
    changes = [(plan, sku, plan.current[sku]) for plan in plans for sku in sorted(plan.wanted)]
    if uow.positions.row_locking and len(changes) >= BULK_ROWS:
        _write_bulk(ctx, uow, report, changes)
    else:
        before, after = _write_locked(uow, report, changes)
        ruleset = ctx.rules.active(uow)
        report.ruleset = ruleset.ref
        move_ats_of(uow, ruleset, before, after)
    uow.positions.record_snapshot_times({plan.location_id: plan.as_of for plan in plans})


def _write_bulk(ctx: Context, uow: UnitOfWork, report: IngestReport,
                changes: list[_Change]) -> None:
    """PostgreSQL, many rows: one ordered UPDATE of the positions still as read (no lock pass
    first), the ATS deltas worked out from the positions as read while the database
    writes; positions that moved meanwhile, and new ones, go the locked way and any guess
    the write contradicts is taken back, so the ATS moves exactly as the stock did."""
    ruleset, catalog = ctx.rules.active(uow), uow.catalog()
    report.ruleset = ruleset.ref
    read = [(plan, sku, pos) for plan, sku, pos in changes if pos is not None and pos.id]
    arriving, now = arrivals(uow, ruleset, [(plan.location_id, sku) for plan, sku, _ in changes])
    moves: dict[int, tuple[PositionStock, PositionStock]] = {}

    def guess() -> dict[tuple[str, str], int]:  # runs while the database writes
        moves.update({pos.id: (PositionStock.of(pos), PositionStock(
            plan.location_id, sku, plan.wanted[sku], pos.allocated, pos.reserved))
            for plan, sku, pos in read})
        return channel_deltas(ruleset, catalog, moves.values(), arriving, now)

    written, deltas = uow.positions.update_counts_unless_moved(
        [(pos, plan.wanted[sku], plan.as_of) for plan, sku, pos in read],
        meanwhile=guess)
    fixes: list[tuple[PositionStock | None, PositionStock]] = []
    for pid, (before, after) in moves.items():
        if written.get(pid) != (before.allocated, before.reserved):
            fixes.append((after, before))  # take the guess back
            if pid in written:  # written, but allocations moved meanwhile: the real move
                allocated, reserved = written[pid]
                fixes.append((replace(before, allocated=allocated, reserved=reserved),
                              replace(after, allocated=allocated, reserved=reserved)))
    rest = [change for change in changes if change[2] is None or change[2].id not in written]
    rest_before, rest_after = _write_locked(uow, report, rest)
    fixes += [(rest_before.get((r.location_id, r.sku)), PositionStock.of(r)) for r in rest_after]
    uow.stock_moved({sku for _plan, sku, _pos in changes})
    total = Counter(deltas or {})
    total.update(channel_deltas(ruleset, catalog, fixes, arriving, now))
    kept.move(uow, ruleset, {k: v for k, v in total.items() if v})


def _write_locked(uow: UnitOfWork, report: IngestReport, changes: list[_Change]
                  ) -> tuple[dict[tuple[str, str], PositionStock], list[PositionRow]]:
    """Lock what changes, recheck it against the snapshot's time, write it."""
    ids = [pos.id for _plan, _sku, pos in changes if pos is not None and pos.id is not None]
    locked = uow.positions.lock_ids(ids)
    before: dict[tuple[str, str], PositionStock] = {}
    after: list[PositionRow] = []
    for plan, sku, pos in changes:
        old = locked.get(pos.id) if pos is not None and pos.id is not None else None
        if old is not None and old.counts_from is not None and old.counts_from > plan.as_of:
            _count_moved(report, plan, sku)  # shipped (or counted) meanwhile
            continue
        if old is not None:
            before[(plan.location_id, sku)] = PositionStock.of(old)
        after.append(PositionRow(old.id if old else None, plan.location_id, sku,
                                 plan.wanted[sku], old.allocated if old else 0,
                                 old.reserved if old else 0, plan.as_of))
    uow.positions.write_counts(after)
    return before, after
