"""The stock ledger's rules: which counts apply, what a snapshot zeroes, what is available.

Pure functions over small values; the store applies their verdicts in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Verdict(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    STALE = "stale"


@dataclass(frozen=True)
class Position:
    """What the ledger knows of one (location, sku)."""

    on_hand: int
    as_of: datetime | None
    allocated: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        """max(0, on_hand - allocated - reserved): units free to promise."""
        return max(0, self.on_hand - self.allocated - self.reserved)


@dataclass(frozen=True)
class Update:
    """A count (absolute on_hand) or a movement (signed adjust) at time as_of."""

    as_of: datetime
    on_hand: int | None = None
    adjust: int | None = None


def apply_update(current: Position | None, update: Update) -> tuple[Verdict, Position]:
    """The position after update; stale when it is older than what the position knows.

    Shipping a fulfilment moves the position's as_of to the shipment time, so a count
    taken before a shipment is stale and can never bring shipped units back.
    """
    if current is not None and current.as_of is not None and update.as_of < current.as_of:
        return Verdict.STALE, current
    base = current or Position(on_hand=0, as_of=None)
    if update.on_hand is not None:
        on_hand = update.on_hand
    else:
        on_hand = max(0, base.on_hand + (update.adjust or 0))
    as_of = update.as_of if base.as_of is None else max(base.as_of, update.as_of)
    after = Position(on_hand, as_of, base.allocated, base.reserved)
    verdict = (
        Verdict.UNCHANGED if current is not None and on_hand == base.on_hand else Verdict.APPLIED
    )
    return verdict, after


def zeroed_share(positions_with_stock: int, would_zero: int) -> float:
    """Share of a location's stocked positions a snapshot would set to zero."""
    if positions_with_stock == 0:
        return 0.0
    return would_zero / positions_with_stock


def ship(current: Position, quantity: int, shipped_at: datetime) -> Position:
    """Units leave the allocation and the shelf; the position is known as of the shipment.

    The units always come off `on_hand`, even when the position's `as_of` is later than the
    shipment: `as_of` also moves with earlier shipments and signed adjustments, so it cannot
    tell whether a count already left these units out. A shipment reported after a count
    that had already missed the parcel understates the shelf until the next count; it can
    never oversell.
    """
    as_of = shipped_at if current.as_of is None else max(current.as_of, shipped_at)
    return Position(
        on_hand=max(0, current.on_hand - quantity),
        as_of=as_of,
        allocated=max(0, current.allocated - quantity),
        reserved=current.reserved,
    )
