"""The sites sourcing ranks, as one table per process: rebuilt when the catalog or ruleset
changes, patched where the backlog moved (the few locations an order's kept backlog read
names, store/backlog_kept.py; else those whose count differs)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from service.domain.sourcing import Weights
from service.domain.sourcing.rings import Site, SiteTable
from service.rules.model import Ruleset
from service.services.orders import backlog
from service.services.orders.rule_floors import location_rule_floors
from service.store.backlog_kept import Counts
from service.store.catalog import CatalogSnapshot

# The last table built (per process), with the very catalog object (compared by identity,
# kept alive so its id cannot be reused) and the backlog counts (compared by value, or known
# to be laid over them: store/backlog_kept.py) it was built from.
SITES: list[tuple[CatalogSnapshot, dict[str, int], tuple[Any, ...], SiteTable]] = []


def site_table(catalog: CatalogSnapshot, ruleset: Ruleset, counts: dict[str, int],
                weights: Weights) -> SiteTable:
    """Ship-capable active locations with their static costs, rebuilt when an input changes."""
    key = (ruleset.ref, ruleset.content_hash, weights)
    if SITES:
        built_catalog, built_counts, built_key, built = SITES[0]
        if built_catalog is catalog and built_key == key:
            moved = _moved(built_counts, counts)
            unchanged = not moved if moved is not None else built_counts == counts
            if unchanged:
                if isinstance(counts, Counts):  # the next counts are laid over these
                    SITES[:] = [(catalog, counts, key, built)]
                return built
            ratios = (_ratios_moved(catalog, built_counts, counts) if moved is None else
                      _ratios_of(catalog, counts, moved))
            table = built.with_backlog(ratios)
            SITES[:] = [(catalog, _kept(counts), key, table)]
            return table
    sites = [Site(loc_id, f["lat"], f["lon"],
                  backlog.ratio(counts.get(loc_id, 0), f["daily_capacity"]),
                  f["processing_hours"], f["priority"])
             for loc_id, f in catalog.locations.items() if f["active"] and f["can_ship"]]
    facts = [catalog.locations[site.location_id] for site in sites]
    table = SiteTable(sites, weights, location_rule_floors(ruleset.sourcing.rules, facts))
    SITES[:] = [(catalog, _kept(counts), key, table)]
    return table


def _moved(before: dict[str, int], now: dict[str, int]) -> Collection[str] | None:
    """The locations whose count may differ between `before` and `now` when `now` was laid
    over that very object (an order's kept backlog read); None: compare them."""
    since = getattr(now, "moved_since", None)
    return since(before) if since is not None else None


def _kept(counts: dict[str, int]) -> dict[str, int]:
    """The counts to compare the next ones with: laid-over counts are never changed (kept
    as they are, so the next ones can name what moved), any other dict is copied."""
    return counts if isinstance(counts, Counts) else dict(counts)


def _ratios_of(catalog: CatalogSnapshot, counts: dict[str, int], moved: Collection[str]
               ) -> dict[str, float]:
    """The backlog ratio now of each location in `moved`."""
    return {loc: backlog.ratio(counts.get(loc, 0), catalog.locations[loc]["daily_capacity"])
            for loc in moved if loc in catalog.locations}


def _ratios_moved(catalog: CatalogSnapshot, before: dict[str, int], now: dict[str, int]
                  ) -> dict[str, float]:
    """The backlog ratio now of every location whose open lines moved since `before`."""
    # counts hold no zeros: a location moved iff its (location, count) pair is in one only
    # (a set operation in C: thousands of locations with open lines at 10,000 locations)
    moved = {loc for loc, _ in before.items() ^ now.items()}
    return {loc: backlog.ratio(now.get(loc, 0), catalog.locations[loc]["daily_capacity"])
            for loc in moved if loc in catalog.locations}
