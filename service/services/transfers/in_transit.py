"""Units in transit to a location, beside its stock in availability detail (never sellable)."""

from __future__ import annotations

from typing import Any

from service.rules.model import Ruleset
from service.services.ats.position import PositionStock, explain_position
from service.store.catalog import CatalogSnapshot
from service.store.unit_of_work import UnitOfWork


def add_in_transit(uow: UnitOfWork, ruleset: Ruleset, catalog: CatalogSnapshot, channel: str,
                   per_sku: dict[str, list[dict[str, Any]]], location: str | None) -> None:
    """Give every location entry its `in_transit` units (shipped to it by transfers, not yet
    received); a destination with no position of the SKU gets an entry of its own."""
    arriving = uow.transfers.in_transit(list(per_sku), location)
    for sku, entries in per_sku.items():
        for entry in entries:
            entry["in_transit"] = arriving.pop((entry["location"], sku), 0)
    for (destination, sku), units in sorted(arriving.items()):
        entry = explain_position(ruleset, catalog, PositionStock(destination, sku, 0, 0, 0),
                                 channel)
        per_sku[sku].append(entry | {"in_transit": units})
