"""Units in transit to a location, beside its stock in availability detail: never sellable,
except the units a channel's count_in_transit rule counts (expected within its window)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.rules.model import Ruleset
from service.services.ats.deltas import arrivals
from service.services.ats.position import Arriving, PositionStock, explain_position
from service.store.catalog import CatalogSnapshot
from service.store.unit_of_work import UnitOfWork

Key = tuple[str, str]  # (location_id, sku)


@dataclass(frozen=True)
class InTransit:
    """Units in transit per destination and SKU, and (when some channel counts them) when
    each transfer's units are expected, read at `now`."""

    units: Mapping[Key, int]
    arriving: Mapping[Key, Arriving]
    now: datetime | None

    def of(self, key: Key) -> Arriving:
        """The expected arrivals at one position (empty: none counted)."""
        return self.arriving.get(key, ())


def in_transit_to(uow: UnitOfWork, ruleset: Ruleset, skus: Sequence[str],
                  location: str | None) -> InTransit:
    """The units in transit of skus (to one location, or any)."""
    units = uow.transfers.in_transit(list(skus), location)
    arriving, now = arrivals(uow, ruleset, units) if units else ({}, None)
    return InTransit(units, arriving, now)


def add_in_transit(ruleset: Ruleset, catalog: CatalogSnapshot, channel: str,
                   per_sku: dict[str, list[dict[str, Any]]], transit: InTransit) -> None:
    """Give every location entry its `in_transit` units (shipped to it by transfers, not yet
    received); a destination with no position of the SKU gets an entry of its own."""
    remaining = dict(transit.units)
    for sku, entries in per_sku.items():
        for entry in entries:
            entry["in_transit"] = remaining.pop((entry["location"], sku), 0)
    for (destination, sku), units in sorted(remaining.items()):
        entry = explain_position(ruleset, catalog, PositionStock(destination, sku, 0, 0, 0),
                                 channel, transit.of((destination, sku)), transit.now)
        per_sku[sku].append(entry | {"in_transit": units})
