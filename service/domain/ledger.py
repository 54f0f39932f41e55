"""The stock ledger's rules: which counts apply, what a snapshot zeroes, what is available.

Pure functions over small values; the store applies their verdicts in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_QUANTITY = 10_000_000  # the most units a count or an adjustment names, or a position holds


class OverMaximum(ValueError):
    """An adjustment that would take a position past MAX_QUANTITY units (it is rejected)."""


def available_units(on_hand: int, allocated: int, reserved: int) -> int:
    """A position's free units: on hand, less allocated and reserved, never below 0."""
    return max(0, on_hand - allocated - reserved)


def latest(*times: datetime | None) -> datetime | None:
    """The newest of the times that are known (None when none is)."""
    known = [t for t in times if t is not None]
    return max(known) if known else None


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
    shipped_at: datetime | None = None  # the newest shipment from it

    @property
    def available(self) -> int:
        """max(0, on_hand - allocated - reserved): units free to promise."""
        return available_units(self.on_hand, self.allocated, self.reserved)


@dataclass(frozen=True)
class Update:
    """A count (absolute on_hand) or a movement (signed adjust) at time as_of."""

    as_of: datetime
    on_hand: int | None = None
    adjust: int | None = None


def apply_update(current: Position | None, update: Update) -> tuple[Verdict, Position]:
    """The position after update; stale when it is older than what the position knows.

    A count (absolute on_hand) taken before the position's newest shipment is stale too:
    it still holds the shipped units and would bring them back. A movement (signed adjust)
    is not: a till sale or a receipt recorded before a parcel left is as true after it.
    A movement never takes on_hand below 0, and raises OverMaximum rather than past
    MAX_QUANTITY (what every store of the ledger can hold).
    """
    if current is not None and _stale(current, update):
        return Verdict.STALE, current
    base = current or Position(on_hand=0, as_of=None)
    if update.on_hand is not None:
        on_hand = update.on_hand
    else:
        on_hand = max(0, base.on_hand + (update.adjust or 0))
        if on_hand > MAX_QUANTITY:
            raise OverMaximum(f"on_hand would be {on_hand}, more than {MAX_QUANTITY}")
    after = Position(on_hand, latest(base.as_of, update.as_of), base.allocated, base.reserved,
                     base.shipped_at)
    verdict = (
        Verdict.UNCHANGED if current is not None and on_hand == base.on_hand else Verdict.APPLIED
    )
    return verdict, after


def _stale(current: Position, update: Update) -> bool:
    if current.as_of is not None and update.as_of < current.as_of:
        return True
    is_count = update.on_hand is not None
    return is_count and current.shipped_at is not None and update.as_of < current.shipped_at


def zeroed_share(positions_with_stock: int, would_zero: int) -> float:
    """Share of a location's stocked positions a snapshot would set to zero."""
    if positions_with_stock == 0:
        return 0.0
    return would_zero / positions_with_stock


def ship(current: Position, quantity: int, shipped_at: datetime) -> Position:
    """Units leave the allocation and the shelf; counts taken before `shipped_at` go stale.

    The units always come off `on_hand`: the position cannot tell whether a count it holds
    already missed the parcel, so a shipment reported after such a count understates the
    shelf until the next count; it can never oversell. `as_of` stays as it is, so
    movements (signed adjustments) recorded before the shipment still apply.
    """
    return Position(
        on_hand=max(0, current.on_hand - quantity),
        as_of=current.as_of,
        allocated=max(0, current.allocated - quantity),
        reserved=current.reserved,
        shipped_at=latest(current.shipped_at, shipped_at),
    )
