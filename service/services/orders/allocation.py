"""Taking a plan's units: allocated in the order's transaction, so no unit is sold twice.

At once when no planned position changed since the plan read it (PostgreSQL, one
statement), else by locking each position in id order and re-checking the channel's ATS on
the locked row; a shortfall raises StockTaken and the order re-plans on fresh stock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from service.domain.orders import Order
from service.rules.model import Ruleset
from service.services.ats import kept
from service.services.ats.deltas import Deltas, add_deltas, stock_deltas
from service.services.ats.position import PositionStock, position_ats
from service.services.inventory.stock_changes import change_positions
from service.services.orders.sourcing import Sourced
from service.store.allocation_pg import Seen
from service.store.order_aggregate_rows import OrderSave
from service.store.position_reads import StockAt
from service.store.position_rows import PositionRow
from service.store.unit_of_work import UnitOfWork

Key = tuple[str, str]  # (location_id, sku)


class StockTaken(Exception):
    """Planned stock was taken meanwhile: re-plan."""

    def __init__(self, short: list[Key]):
        super().__init__(short)
        self.short = short


def allocate(uow: UnitOfWork, sourced: Sourced, channel: str, freed: Deltas,
             release: Mapping[Key, int] | None = None, kept_by: Ruleset | None = None,
             order: tuple[Order, dict[str, Any]] | None = None,
             save: Order | None = None) -> bool:
    """Take the planned units (see the module); True when `order` (a new order and its
    201 body) was written too, by the allocation's one statement (else the caller adds it),
    or when `save` (an order this transaction read and changed) was saved.

    `freed` are the ATS deltas of the checkout reservations the order consumed: moved with
    the allocation's, so the ATS rows are locked once, after every position. `release` are
    units to give back in the same pass (a rejecting location's), as negative allocations.
    `kept_by` is the ruleset of the kept ATS (the active one) when another one planned (an
    experiment's variant, or the version an order was placed with): the locked rows are
    re-checked by the planning ruleset, the kept ATS moved by the active one. `save` is
    saved by the allocation's statement when it takes the units (PostgreSQL), else right
    after the allocation.
    """
    check = sourced.ruleset
    if kept_by is not None:
        sourced = dataclasses.replace(sourced, ruleset=kept_by)
    wanted = {(s.location_id, ln.sku): ln.quantity
              for s in sourced.plan.shipments for ln in s.lines}
    for key, units in (release or {}).items():
        wanted[key] = wanted.get(key, 0) - units
    woken = sorted({sku for _location, sku in release or {}})
    if save is not None:
        _allocate_saving(uow, sourced, channel, wanted, freed, check, save, woken)
        return True
    if woken:  # released units may serve an order waiting for them elsewhere
        uow.backorders.wake(woken)
    if not wanted:
        kept.move(uow, sourced.ruleset, freed)
        return False
    if _as_seen(uow, sourced, wanted):
        if _allocate_as_seen(uow, sourced, wanted, freed, order):
            return order is not None
    _allocate_rechecked(uow, sourced, channel, wanted, freed, check)
    return False


def _as_seen(uow: UnitOfWork, sourced: Sourced, wanted: dict[Key, int]) -> bool:
    """Whether the units can be taken by one statement that checks the positions are as
    the plan read them (PostgreSQL, every position read by the plan)."""
    return bool(wanted) and uow.positions.row_locking and wanted.keys() <= sourced.seen.keys()


def _allocate_saving(uow: UnitOfWork, sourced: Sourced, channel: str, wanted: dict[Key, int],
                     freed: Deltas, check: Ruleset, order: Order, woken: list[str]) -> None:
    """Take the units and save the order: in one statement when no planned position moved
    since the plan read it, else the general way (wakeups, the units re-checked on the
    locked rows), then the save."""
    save = uow.orders.unsaved(order)
    if _as_seen(uow, sourced, wanted) and _allocate_and_save(uow, sourced, wanted, freed,
                                                               save, woken):
        return
    if woken:
        uow.backorders.wake(woken)
    if wanted:
        _allocate_rechecked(uow, sourced, channel, wanted, freed, check)
    else:
        kept.move(uow, sourced.ruleset, freed)
    uow.orders.write(save)


def _allocate_and_save(uow: UnitOfWork, sourced: Sourced, wanted: dict[Key, int],
                       freed: Deltas, save: OrderSave, woken: list[str]) -> bool:
    seen = [sourced.seen[key] for key in wanted]
    deltas = add_deltas(dict(freed), stock_deltas(uow, sourced.ruleset, _moves(seen, wanted)))
    done = uow.positions.allocate_and_save(_seen(seen, wanted), deltas, sourced.ruleset.ref,
                                           save, woken)
    if not done.outcome.taken:
        return False
    uow.orders.saved(save, done.lines)
    kept.move(uow, sourced.ruleset,  # ATS rows not there yet (a SKU's first): the general way
              {k: v for k, v in deltas.items() if k not in done.outcome.ats_moved})
    return True


def _moves(seen: list[StockAt], wanted: dict[Key, int]
           ) -> list[tuple[PositionStock, PositionStock]]:
    """Each planned position's stock as read, and with the units allocated."""
    return [(PositionStock.of(row),
             dataclasses.replace(PositionStock.of(row), allocated=row.allocated + q))
            for row, q in zip(seen, wanted.values(), strict=True)]


def _seen(seen: list[StockAt], wanted: dict[Key, int]) -> list[Seen]:
    """The positions as the plan read them, with the units to allocate at each."""
    return [Seen(r.id, r.on_hand, r.allocated, r.reserved, q)
            for r, q in zip(seen, wanted.values(), strict=True)]


def _allocate_as_seen(uow: UnitOfWork, sourced: Sourced, wanted: dict[Key, int],
                      freed: Deltas, order: tuple[Order, dict[str, Any]] | None) -> bool:
    seen = [sourced.seen[key] for key in wanted]
    deltas = add_deltas(dict(freed), stock_deltas(uow, sourced.ruleset, _moves(seen, wanted)))
    outcome = uow.positions.allocate_if_unchanged(
        _seen(seen, wanted), deltas, sourced.ruleset.ref, order and uow.orders.pending(*order))
    if outcome.taken and order is not None:
        uow.orders.added(order[0])
    if outcome.taken:  # ATS rows not there yet (a SKU's first) are moved the general way
        kept.move(uow, sourced.ruleset,
                  {k: v for k, v in deltas.items() if k not in outcome.ats_moved})
    return outcome.taken


def _allocate_rechecked(uow: UnitOfWork, sourced: Sourced, channel: str,
                        wanted: dict[Key, int], freed: Deltas, check: Ruleset) -> None:
    ids = {k: sourced.seen[k].id for k in wanted if k in sourced.seen}
    if len(ids) < len(wanted):
        ids.update(uow.positions.ids_for([k for k in wanted if k not in ids]))
    catalog = uow.catalog()
    short: list[Key] = []

    def taker(key: Key, quantity: int):
        def take(row: PositionRow) -> PositionRow | None:
            if position_ats(check, catalog, row, channel) < quantity:
                short.append(key)
                return None
            return dataclasses.replace(row, allocated=max(0, row.allocated + quantity))
        return take

    change_positions(uow, sourced.ruleset,
                     {ids[k]: taker(k, q) for k, q in wanted.items() if k in ids}, also=freed)
    missing = [k for k in wanted if k not in ids]
    if short or missing:
        raise StockTaken(short + missing)
