"""A draft's impact on every channel's ATS computed from the process's columnar copy of the
positions (services.rulesets.stock_columns) with numpy: the same ImpactRows as the SQL
comparison (store.ats_impact.compare), in milliseconds instead of a scan of every position."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from service.rules.model import Rule, Ruleset
from service.rules.vectorised import PositionArrays, channel_units, serving
from service.services.rulesets.stock_columns import Columns, kept_for
from service.store.ats_impact import ImpactRows
from service.store.catalog import CatalogSnapshot

if TYPE_CHECKING:
    from service.services.context import Context
    from service.store.unit_of_work import UnitOfWork


def _meaning(rule: Rule) -> str:
    """What a rule does (its conditions and actions), whatever its name and description."""
    doc = rule.to_dict()
    doc.pop("name", None)
    doc.pop("description", None)
    return json.dumps(doc, sort_keys=True, default=str)


def changed_channels(old: Ruleset, new: Ruleset) -> list[str]:
    """The channels whose figures can differ (store.ats_impact.compare's choice): present in
    one ruleset only, selling other methods, or with a rule one has and the other has not."""
    found = []
    for channel in sorted({*old.channels, *new.channels}):
        if (channel in old.channels) != (channel in new.channels) or (
                old.sells(channel) != new.sells(channel)):
            found.append(channel)
            continue
        before = {_meaning(r) for r in old.channels[channel]}
        if before != {_meaning(r) for r in new.channels[channel]}:
            found.append(channel)
    return found


def positions_with_units(columns: Columns, catalog: CatalogSnapshot) -> PositionArrays:
    """The positions with units available whose product and location the catalog knows (no
    other position gives a channel anything, under any ruleset)."""
    products = [catalog.products.get(sku) for sku in columns.skus]
    locations = [catalog.locations.get(loc) for loc in columns.locations]
    known_product = np.fromiter((p is not None for p in products), bool, len(products))
    known_location = np.fromiter((loc is not None for loc in locations), bool, len(locations))
    sku, loc = columns.sku, columns.loc
    keep = np.flatnonzero((columns.free > 0) & known_product[sku] & known_location[loc])
    return PositionArrays(sku[keep], loc[keep], columns.on_hand[keep], columns.free[keep],
                          products, locations)


def compare(positions: PositionArrays, skus: list[str], locations: list[str], old: Ruleset,
            new: Ruleset) -> ImpactRows:
    """Per SKU each changed channel's change, per location how many positions changed."""
    channels = changed_channels(old, new)
    if not channels or not len(positions):
        return ImpactRows(channels, [], [])
    deltas = np.vstack([_units(new, c, positions) - _units(old, c, positions)
                        for c in channels])
    moved = np.flatnonzero((deltas != 0).any(axis=0))
    sku, loc, deltas = positions.sku[moved], positions.loc[moved], deltas[:, moved]
    by_sku = _summed(sku, deltas, len(skus))
    by_location = _summed(loc, (deltas != 0).astype(np.int64), len(locations))
    return ImpactRows(
        channels,
        [(skus[i], [int(v) for v in by_sku[:, i]]) for i in np.unique(sku)],
        [(locations[i], [int(v) for v in by_location[:, i]]) for i in np.unique(loc)])


def _units(ruleset: Ruleset, channel: str, positions: PositionArrays) -> np.ndarray:
    eligible = serving(ruleset, channel, positions.locations)[positions.loc]
    return channel_units(ruleset, channel, positions, eligible)


def _summed(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per row of values, the sums per index (exact: float sums of integers below 2**53)."""
    return np.vstack([np.rint(np.bincount(index, weights=row, minlength=size)).astype(np.int64)
                      for row in values])


def impact_rows(ctx: Context, uow: UnitOfWork, old: Ruleset, new: Ruleset) -> ImpactRows:
    """What new would change in every channel's ATS against old, on the stock as it is now
    (the positions are not read at all when no channel's rules differ)."""
    if not changed_channels(old, new):
        return ImpactRows([], [], [])
    with kept_for(ctx).current(uow.position_columns) as columns:
        positions = positions_with_units(columns, uow.catalog())
        return compare(positions, columns.skus, columns.locations, old, new)
