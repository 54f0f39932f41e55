"""What the rings know of a location before its stock is read, and its cost floors over every
location (`Floors`, read cheapest first by `Unread`): see `rings`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Site:
    """What is known of a ship location before reading its stock."""

    location_id: str
    lat: float
    lon: float
    backlog_ratio: float = 0.0
    processing_hours: float = 0.0
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Floors:
    """Every location's cost floor (shipment penalty included), in no particular order.

    The rings take the cheapest floors first (`Unread`); sorting them all, ten thousand
    locations for an order that reads sixteen, was most of a plan's time at 10,000 locations.
    """

    ids: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @property
    def location_ids(self) -> list[str]:
        """Every location, cheapest floor first (ties: table order)."""
        return self.ids[self._sorted()].tolist()

    @property
    def floors(self) -> list[float]:
        """Every floor, rising."""
        return self.values[self._sorted()].tolist()

    def _sorted(self) -> np.ndarray:
        return np.argsort(self.values, kind="stable")

    def unread(self) -> Unread:
        """The rings' reading state over these floors."""
        return Unread(self)

    def without(self, location_ids: Collection[str]) -> Floors:
        """The floors of every location but these."""
        if not location_ids:
            return self
        keep = ~np.isin(self.ids, list(location_ids))
        return Floors(self.ids[keep], self.values[keep])


class Unread:
    """The locations not read yet, handed out by rising floor: each ring takes the cheapest
    left (a partial sort, ties in table order within the ring), so whatever was read, every
    unread location's floor is at least `lowest()`."""

    def __init__(self, floors: Floors) -> None:
        self.ids, self.values = floors.ids, floors.values
        self.rest = np.arange(len(floors))

    def __len__(self) -> int:
        return len(self.rest)

    def take(self, size: int) -> list[str]:
        """The `size` unread locations of lowest floor (all that are left when fewer)."""
        rest, values = self.rest, self.values
        if size < len(rest):
            split = np.argpartition(values[rest], size)
            taken, self.rest = rest[split[:size]], rest[split[size:]]
        else:
            taken, self.rest = rest, rest[:0]
        return self.ids[taken[np.lexsort((taken, values[taken]))]].tolist()

    def below(self, limit: float, at_most: int | None = None) -> int:
        """How many unread locations have a floor below `limit` (all are counted here;
        `at_most` lets a lazier reader stop counting there)."""
        return int(np.count_nonzero(self.values[self.rest] < limit))

    def lowest(self) -> float | None:
        """The lowest floor of the unread locations (None: every location was read)."""
        return float(self.values[self.rest].min()) if len(self.rest) else None

    def lowest_up_to(self, cap: float) -> float:
        """The lowest floor of the unread locations, or `cap` when none is lower."""
        lowest = self.lowest()
        return cap if lowest is None else min(cap, lowest)
