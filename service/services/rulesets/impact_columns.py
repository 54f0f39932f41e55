"""A draft's impact on every channel's ATS computed from the process's columnar copy of the
positions (services.rulesets.stock_columns) with numpy: the same ImpactRows as the SQL
comparison (store.ats_impact.compare), in milliseconds instead of a scan of every position."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


@dataclass
class _Base:
    """What a copy's layout (its positions, in order) and the catalog's facts give, whatever
    the counts: indices, facts, which positions the catalog knows, trees decided."""

    catalog_version: int
    sku: np.ndarray
    loc: np.ndarray
    products: list[Any]
    locations: list[Any]
    known: np.ndarray
    decided: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    serving: dict[tuple[Any, ...], np.ndarray] = field(default_factory=dict)


_bases: weakref.WeakKeyDictionary[Columns, _Base] = weakref.WeakKeyDictionary()
_INT32 = int(np.iinfo(np.int32).max)
KEPT_TREES = 32  # trees kept decided per layout: a byte per position each


def _base(columns: Columns, catalog: CatalogSnapshot) -> _Base:
    base = _bases.get(columns)
    if base is not None and base.catalog_version == catalog.version and len(
            base.products) == len(columns.skus) and len(base.locations) == len(
            columns.locations):
        if len(base.decided) > KEPT_TREES:
            base.decided.clear()
        return base
    products = [catalog.products.get(sku) for sku in columns.skus]
    locations = [catalog.locations.get(loc) for loc in columns.locations]
    known_product = np.fromiter((p is not None for p in products), bool, len(products))
    known_location = np.fromiter((loc is not None for loc in locations), bool, len(locations))
    sku, loc = columns.sku, columns.loc
    base = _bases[columns] = _Base(catalog.version, sku, loc, products, locations,
                                   known_product[sku] & known_location[loc])
    return base


def positions_now(columns: Columns, catalog: CatalogSnapshot) -> tuple[PositionArrays, _Base]:
    """Every position of the copy with its counts now (available below 0 counts as 0)."""
    base = _base(columns, catalog)
    available = np.maximum(columns.free, 0)
    if available.size and int(available.max()) <= _INT32:  # half the memory traffic
        available = available.astype(np.int32)
    return PositionArrays(base.sku, base.loc, columns.on_hand, available,
                          base.products, base.locations, base.decided), base


def _eligible(base: _Base, ruleset: Ruleset, channel: str) -> np.ndarray:
    """Positions known to the catalog at an active location serving what channel sells."""
    key = ruleset.sells(channel)
    found = base.serving.get(key)
    if found is None:
        found = base.serving[key] = serving(ruleset, channel, base.locations)[base.loc] & (
            base.known)
    return found


def compare(columns: Columns, catalog: CatalogSnapshot, old: Ruleset,
            new: Ruleset) -> ImpactRows:
    """Per SKU each changed channel's change, per location how many positions changed (the
    positions whose contribution differs, as store.ats_impact.compare sums them)."""
    channels = changed_channels(old, new)
    if not channels or not columns.key.shape[0]:
        return ImpactRows(channels, [], [])
    positions, base = positions_now(columns, catalog)
    deltas = [channel_units(new, c, positions, _eligible(base, new, c))
              - channel_units(old, c, positions, _eligible(base, old, c)) for c in channels]
    differs = deltas[0] != 0
    for more in deltas[1:]:
        differs |= more != 0
    sku, loc = positions.sku, positions.loc  # a position that does not differ adds 0
    by_sku = [np.rint(np.bincount(sku, weights=d, minlength=len(columns.skus))).astype(
        np.int64) for d in deltas]  # exact: sums of integers below 2**53
    by_location = [np.bincount(loc, weights=d != 0, minlength=len(columns.locations)).astype(
        np.int64) for d in deltas]
    return ImpactRows(channels, _rows(columns.skus, sku, differs, by_sku),
                      _rows(columns.locations, loc, differs, by_location))


def _rows(names: list[str], index: np.ndarray, differs: np.ndarray,
          sums: list[np.ndarray]) -> list[Any]:
    """(name, [sum per channel]) of every index with a position that differs."""
    present = np.flatnonzero(np.bincount(index, weights=differs, minlength=len(names)))
    columns = [s[present].tolist() for s in sums]
    return [(names[i], [c[n] for c in columns]) for n, i in enumerate(present.tolist())]


def impact_rows(ctx: Context, uow: UnitOfWork, old: Ruleset, new: Ruleset) -> ImpactRows:
    """What new would change in every channel's ATS against old, on the stock as it is now
    (the positions are not read at all when no channel's rules differ)."""
    if not changed_channels(old, new):
        return ImpactRows([], [], [])
    with kept_for(ctx).current(uow.position_columns) as columns:
        return compare(columns, uow.catalog(), old, new)
