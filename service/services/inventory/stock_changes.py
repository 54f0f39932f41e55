"""Position changes in one place: lock positions, change them, and move the ATS with them.

Every writer of allocated/reserved/on_hand outside counts (reservations, allocations,
shipments) goes through `change_positions`, so the kept ATS never drifts from the ledger.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from service.domain import ledger
from service.errors import ValidationFailed, problem
from service.rules.model import Ruleset
from service.services.ats import kept
from service.services.ats.deltas import Deltas, add_deltas, stock_deltas
from service.services.ats.position import PositionStock
from service.store.position_rows import PositionRow
from service.store.unit_of_work import UnitOfWork

Change = Callable[[PositionRow], PositionRow | None]


def change_positions(uow: UnitOfWork, ruleset: Ruleset,
                     changes: dict[int, Change], *, defer_to: Deltas | None = None,
                     also: Deltas | None = None) -> dict[int, PositionRow]:
    """Lock positions by id, apply each change function, store, and move the ATS.

    A change returns the new row, or None to leave the position as it is. With `defer_to`
    the ATS deltas are added there instead of applied (the caller moves them later, with
    its own, in one pass); `also` are deltas deferred earlier, moved now with these.
    """
    locked = uow.positions.lock_ids(list(changes))
    moves, stored = [], {}
    for pid, row in locked.items():
        before = PositionStock.of(row)
        after = changes[pid](row)
        if after is None:
            continue
        moves.append((before, PositionStock.of(after)))
        stored[pid] = after
    deltas: Deltas = {}
    if stored:
        uow.positions.store(list(stored.values()))
        deltas = stock_deltas(uow, ruleset, moves)
    if defer_to is not None:
        add_deltas(defer_to, deltas)
    else:
        kept.move(uow, ruleset, add_deltas(dict(also or {}), deltas))
    return stored


def move_ats_of(uow: UnitOfWork, ruleset: Ruleset, before: Mapping[tuple[str, str], PositionStock],
                changed: Sequence[PositionRow]) -> None:
    """Move the ATS by what the changed positions (counts already written) now sell."""
    moves = [(before.get((r.location_id, r.sku)), PositionStock.of(r)) for r in changed]
    kept.move(uow, ruleset, stock_deltas(uow, ruleset, moves))


def ship_units(uow: UnitOfWork, ruleset: Ruleset, units: Mapping[tuple[str, str], int],
               at: datetime) -> None:
    """Shipped units (per (location, sku)) leave the allocation and the shelf as of `at`: a
    count taken before then is stale and never brings them back (fulfilments and transfers)."""
    ids = uow.positions.ids_for(units)

    def shipping(quantity: int) -> Callable[[PositionRow], PositionRow]:
        def change(row: PositionRow) -> PositionRow:
            after = ledger.ship(ledger.Position(row.on_hand, row.as_of, row.allocated,
                                                row.reserved, row.shipped_at), quantity, at)
            return dataclasses.replace(row, on_hand=after.on_hand, allocated=after.allocated,
                                       shipped_at=after.shipped_at)
        return change

    change_positions(uow, ruleset,
                     {ids[key]: shipping(q) for key, q in units.items() if key in ids})
    uow.positions.mark_shipped(list(ids.values()), at)


def receive_units(uow: UnitOfWork, ruleset: Ruleset, units: Mapping[tuple[str, str], int],
                  at: datetime) -> None:
    """Received units (per (location, sku): a transfer's, a return's restock) join on-hand as a
    movement at `at`; a count taken after it already holds them (the movement is stale there
    and changes nothing). The ATS moves with them, which wakes backorders waiting for them."""
    uow.positions.ensure(units)
    ids = uow.positions.ids_for(units)

    def receiving(sku: str, quantity: int) -> Change:
        def change(row: PositionRow) -> PositionRow | None:
            try:
                verdict, after = ledger.apply_update(
                    ledger.Position(row.on_hand, row.as_of, row.allocated, row.reserved,
                                    row.shipped_at), ledger.Update(as_of=at, adjust=quantity))
            except ledger.OverMaximum as exc:
                raise ValidationFailed("The receipt would overfill a position.", [problem(
                    "/lines", str(exc), sku=sku)]) from exc
            if verdict is ledger.Verdict.STALE:
                return None
            return dataclasses.replace(row, on_hand=after.on_hand, as_of=after.as_of)
        return change

    change_positions(uow, ruleset,
                     {ids[key]: receiving(key[1], q) for key, q in units.items() if key in ids})
