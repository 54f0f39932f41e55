"""Where a transfer meets the stock ledger: allocate at the source, ship from it, receive.

Each goes through `inventory.stock_changes.change_positions` (positions locked in id order,
then the channels' ATS moved with them), as orders do, and the ledger's own arithmetic
(`ledger.available_units`, `ledger.ship`, `ledger.apply_update`) decides the new values.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.domain import ledger
from service.domain.transfers import Transfer
from service.errors import InsufficientStock, problem
from service.services.inventory.stock_changes import change_positions, receive_units, ship_units
from service.store.position_rows import PositionRow
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

Units = dict[tuple[str, str], int]


def allocate_at_source(ctx: Context, uow: UnitOfWork, transfer: Transfer) -> None:
    """Allocate every line's units at the source, or raise InsufficientStock (409) naming
    each line with more than is free there (on hand, less allocated and reserved)."""
    ids = uow.positions.ids_for((transfer.source, ln.sku) for ln in transfer.lines)
    short: list[dict[str, Any]] = []

    def taker(index: int, sku: str, quantity: int):
        def take(row: PositionRow) -> PositionRow | None:
            free = ledger.available_units(row.on_hand, row.allocated, row.reserved)
            if free < quantity:
                short.append(_short(index, sku, quantity, free, transfer.source))
                return None
            return dataclasses.replace(row, allocated=row.allocated + quantity)
        return take

    changes = {ids[(transfer.source, ln.sku)]: taker(i, ln.sku, ln.quantity)
               for i, ln in enumerate(transfer.lines) if (transfer.source, ln.sku) in ids}
    change_positions(uow, ctx.rules.active(uow), changes)
    short += [_short(i, ln.sku, ln.quantity, 0, transfer.source)
              for i, ln in enumerate(transfer.lines) if (transfer.source, ln.sku) not in ids]
    if short:
        raise InsufficientStock(f"Not enough free stock at {transfer.source} for "
                                f"{len(short)} line(s); nothing was allocated.",
                                sorted(short, key=lambda p: p["pointer"]))


def _short(index: int, sku: str, quantity: int, free: int, location: str) -> dict[str, Any]:
    return problem(f"/lines/{index}/quantity", f"{quantity} asked, {free} free at {location}",
                   sku=sku, free=free)


def ship_from_source(ctx: Context, uow: UnitOfWork, units: Units, at: datetime) -> None:
    """Shipped units leave the source's allocation and shelf as of `at` (a count taken
    before then is stale and never brings them back)."""
    ship_units(uow, ctx.rules.active(uow), units, at)


def receive_at_destination(ctx: Context, uow: UnitOfWork, units: Units, at: datetime) -> None:
    """Received units join the destination's on-hand as a movement at `at` (a count taken
    after it already holds them: the movement is stale there and changes nothing)."""
    receive_units(uow, ctx.rules.active(uow), units, at)
