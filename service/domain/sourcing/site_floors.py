"""The ship sites as arrays grouped in cells by place (`SiteTable`), and one destination's
floors computed a cell at a time as the rings reach them (`SiteFloors`, `NearUnread`): at
10,000 locations an order computes the floors of a few hundred sites, not of every one."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from math import inf

import numpy as np

from service.domain.sourcing.cells import build_cells, haversine_km_to
from service.domain.sourcing.costing import LatLon, shipping_costs
from service.domain.sourcing.floors import Floors, Site, Unread
from service.domain.sourcing.model import ShippingModel, Weights

_SLACK = 1e-9  # numpy and math may round the last digit differently: floors stay below
_CELL_SLACK = 1e-6  # a cell's bound stays below its sites' floors, whatever the rounding
# from this many sites the rings compute floors cell by cell (`NearUnread`); below it every
# floor at once costs less than the cells' bounds (0.07 against 0.13 ms at 1,000 sites,
# 0.19 against 0.16 ms at 4,000, 0.59 against 0.22 ms at 10,000)
NEAR_FIRST_FROM = 3000
FIRST_REACH = 16  # a ring's first batch: the floors of this many sites per location asked



class SiteTable:
    """The sites as arrays, grouped in cells by place (built once per catalog and ruleset), so
    an order's floors cost microseconds and grow with the cells its rings reach."""

    def __init__(self, sites: Sequence[Site], weights: Weights,
                 rule_cost_floor: float | Sequence[float]) -> None:
        """`rule_cost_floor`: the most rules can lower a site's cost, one figure for every
        site or one per site (rules decided by the location's own facts counted exactly)."""
        self.base = list(sites)  # as built: shared by every patched copy, never changed
        self.ratios = np.array([site.backlog_ratio for site in sites], dtype=float)
        self.rows = {site.location_id: row for row, site in enumerate(self.base)}
        self.ids = np.array([site.location_id for site in sites], dtype=object)
        self.phi = np.radians(np.array([s.lat for s in sites], dtype=float))
        self.lam = np.radians(np.array([s.lon for s in sites], dtype=float))
        self.cos_phi = np.cos(self.phi)
        self.rule_cost_floor = np.broadcast_to(
            np.asarray(rule_cost_floor, dtype=float), (len(self.sites),))
        self.static = np.array([_static_cost(s, weights) for s in sites],
                               dtype=float) + self.rule_cost_floor
        self.weights = weights
        self.cells = build_cells(self.phi, self.lam)
        self.cell_static = self.cells.lowest_per_cell(self.static) if len(self.cells) else (
            np.empty(0))

    @property
    def sites(self) -> list[Site]:
        """Every site with the backlog ratio the table costs it at (made afresh: checks)."""
        return [site if site.backlog_ratio == ratio else replace(site, backlog_ratio=ratio)
                for site, ratio in zip(self.base, self.ratios.tolist(), strict=True)]

    def with_backlog(self, ratios: Mapping[str, float]) -> SiteTable:
        """A copy with the backlog ratios of some sites changed (others' are ignored), equal
        to a table built afresh from the changed sites; this table is left as it is.

        A replay's backlog moves with every order it places: rebuilding a thousand sites
        per plan was most of the replay's time, patching the few that moved is not. Arrays
        are copied, not the list of sites: at 10,000 sites copying (and later freeing and
        garbage-collecting) that list was most of an order's patch.
        """
        table = copy.copy(self)
        table.ratios, table.static = self.ratios.copy(), self.static.copy()
        table.cell_static = self.cell_static.copy()
        touched = set()
        for location_id, ratio in ratios.items():
            row = self.rows.get(location_id)
            if row is None:
                continue
            site = replace(self.base[row], backlog_ratio=ratio)
            table.ratios[row] = ratio
            table.static[row] = np.float64(_static_cost(site, self.weights)) + (
                self.rule_cost_floor[row])
            touched.add(int(self.cells.cell_of[row]))
        starts, members = self.cells.starts, self.cells.members
        for cell in touched:
            table.cell_static[cell] = table.static[members[starts[cell]:starts[cell + 1]]].min()
        return table

    def floors(self, ship_to: LatLon, shipping: ShippingModel, penalty: float) -> SiteFloors:
        """Every site's cost floor for a shipment to `ship_to`, computed as the rings ask."""
        return SiteFloors(self, ship_to, shipping, penalty)

    def floor_values(self, rows: np.ndarray | slice, ship_to: LatLon, shipping: ShippingModel,
                     penalty: float) -> np.ndarray:
        """The cost floors of the sites at `rows` for a shipment to `ship_to`."""
        km = haversine_km_to(np.radians(ship_to[0]), np.radians(ship_to[1]), self.phi[rows],
                             self.cos_phi[rows], self.lam[rows])
        low = km * (1 - _SLACK) - _SLACK
        weights = self.weights
        if _rises_with_distance(weights, shipping):  # the shortest distance costs least
            floor = (weights.distance_km * low + weights.shipping_cost
                     * shipping_costs(shipping, low) + self.static[rows] + penalty)
        else:
            high = km * (1 + _SLACK) + _SLACK
            ship = np.minimum(shipping_costs(shipping, low), shipping_costs(shipping, high))
            # a negative weight profits from the longest distance the rounding allows
            distance = np.minimum(weights.distance_km * low, weights.distance_km * high)
            floor = distance + weights.shipping_cost * ship + self.static[rows] + penalty
        floor -= _SLACK * (1 + np.abs(floor))
        return floor

    def cell_bounds(self, ship_to: LatLon, shipping: ShippingModel, penalty: float
                    ) -> np.ndarray:
        """Per cell, a figure no site floor of the cell is below (-inf when the distance's
        terms can fall as the distance grows: then no nearer bound holds)."""
        if not _rises_with_distance(self.weights, shipping):
            return np.full(len(self.cells), -inf)
        km = self.cells.nearest_km(ship_to)
        weights = self.weights
        bound = (weights.distance_km * km + weights.shipping_cost * shipping_costs(shipping, km)
                 + self.cell_static + penalty)
        return bound - _CELL_SLACK * (1 + np.abs(bound))


@lru_cache(maxsize=64)
def _rises_with_distance(weights: Weights, shipping: ShippingModel) -> bool:
    """Whether the distance and shipping terms never fall as the distance grows."""
    if weights.distance_km < 0 or weights.shipping_cost < 0:
        return False
    if weights.shipping_cost == 0:
        return True
    if not shipping.zones:
        return shipping.per_km >= 0
    limits = [max_km for max_km, _ in shipping.zones]
    beyond = shipping.zones[-1][1] if shipping.beyond is None else shipping.beyond
    costs = [cost for _, cost in shipping.zones] + [beyond]
    return limits == sorted(limits) and costs == sorted(costs)


class SiteFloors:
    """One destination's floors over a site table, computed a cell at a time as the rings
    reach them (`NearUnread`); `ids`, `values` and the sorted views compute every one."""

    def __init__(self, table: SiteTable, ship_to: LatLon, shipping: ShippingModel,
                 penalty: float, excluded: np.ndarray | None = None) -> None:
        self.table, self.ship_to, self.shipping, self.penalty = table, ship_to, shipping, penalty
        self.excluded = excluded  # one flag per table row: left out of the rings

    def __len__(self) -> int:
        left_out = 0 if self.excluded is None else int(np.count_nonzero(self.excluded))
        return len(self.table.ids) - left_out

    def without(self, location_ids: Collection[str]) -> SiteFloors:
        """The floors of every location but these."""
        rows = [self.table.rows[i] for i in location_ids if i in self.table.rows]
        if not rows:
            return self
        excluded = (np.zeros(len(self.table.ids), dtype=bool) if self.excluded is None
                    else self.excluded.copy())
        excluded[rows] = True
        return SiteFloors(self.table, self.ship_to, self.shipping, self.penalty, excluded)

    def values_of(self, rows: np.ndarray | slice) -> np.ndarray:
        """The floors of the sites at these table rows."""
        return self.table.floor_values(rows, self.ship_to, self.shipping, self.penalty)

    def cell_bounds(self) -> np.ndarray:
        """Per cell of the table, the least floor any of its sites can have."""
        return self.table.cell_bounds(self.ship_to, self.shipping, self.penalty)

    def unread(self) -> NearUnread | Unread:
        """The rings' reading state: cell by cell from `NEAR_FIRST_FROM` sites, else over
        every floor (the same locations in the same order either way)."""
        if len(self.table.ids) >= NEAR_FIRST_FROM:
            return NearUnread(self)
        return Unread(self.every_floor())

    def every_floor(self) -> Floors:
        """Every location's floor, computed now (checks and explanations, not the rings)."""
        rows = slice(None) if self.excluded is None else np.flatnonzero(~self.excluded)
        return Floors(self.table.ids[rows], self.values_of(rows))

    @property
    def ids(self) -> np.ndarray:
        return self.every_floor().ids

    @property
    def values(self) -> np.ndarray:
        return self.every_floor().values

    @property
    def location_ids(self) -> list[str]:
        """Every location, cheapest floor first (ties: table order)."""
        return self.every_floor().location_ids

    @property
    def floors(self) -> list[float]:
        """Every floor, rising."""
        return self.every_floor().floors


class NearUnread:
    """`Unread` over `SiteFloors`: the same rings, the same order (cheapest floor first, ties
    in table order), with the floors of only the cells whose bound the rings reached.

    A site is handed out once its floor is below the next unreached cell's bound, which no
    site of that cell or a later one (rising bounds) is below.
    """

    def __init__(self, floors: SiteFloors) -> None:
        self.floors, self.cells = floors, floors.table.cells
        bounds = floors.cell_bounds()
        order = np.argsort(bounds)  # any order of equal bounds reaches the same sites
        self.queue = order.tolist()
        self.bounds = bounds[order].tolist() + [inf]  # the next cell's bound: bounds[reached]
        self.reached = 0
        self.rows = np.empty(0, dtype=np.int64)  # sites of reached cells, not read yet
        self.values = np.empty(0, dtype=float)
        self.left = len(floors)

    def __len__(self) -> int:
        return self.left

    def take(self, size: int) -> list[str]:
        """The `size` unread locations of lowest floor (all that are left when fewer)."""
        while self.bounds[self.reached] < inf:
            if int(np.count_nonzero(self.values < self.bounds[self.reached])) >= size:
                break
            if len(self.values) < size:  # a batch costs its numpy steps, hardly its sites:
                self._reach(sites=FIRST_REACH * size - len(self.values))  # reach widely
            else:  # no ring takes a floor above the size-th lowest reached: reach towards it,
                # at most doubling what was reached (that floor falls as more is reached)
                self._reach(through=float(np.partition(self.values, size - 1)[size - 1]),
                            at_most=len(self.values))
        order = np.lexsort((self.rows, self.values))
        taken, kept = order[:size], order[size:]
        location_ids = self.floors.table.ids[self.rows[taken]].tolist()
        self.rows, self.values = self.rows[kept], self.values[kept]
        self.left -= len(taken)
        return location_ids

    def below(self, limit: float, at_most: int | None = None) -> int:
        """How many unread locations have a floor below `limit` (counting stops at
        `at_most`: the rings never read more at once)."""
        enough = len(self.floors) if at_most is None else at_most
        while self.bounds[self.reached] < limit:
            counted = int(np.count_nonzero(self.values < limit))
            if counted >= enough:
                return counted
            self._reach(sites=enough - counted, below=limit)
        return int(np.count_nonzero(self.values < limit))

    def lowest(self) -> float | None:
        """The lowest floor of the unread locations (None: every location was read)."""
        while self.bounds[self.reached] < inf:
            if not len(self.values):
                self._reach(sites=1)
                continue
            lowest = float(self.values.min())
            if lowest <= self.bounds[self.reached]:
                break
            self._reach(through=lowest)  # only these cells can hold a lower floor
        return float(self.values.min()) if len(self.values) else None

    def lowest_up_to(self, cap: float) -> float:
        """The lowest floor of the unread locations, or `cap` when none is lower (without a
        floor computed when no cell's bound is below `cap`)."""
        if self.bounds[self.reached] >= cap and not np.any(self.values < cap):
            return cap
        lowest = self.lowest()
        return cap if lowest is None else min(cap, lowest)

    def _reach(self, sites: int = 0, through: float = -inf, below: float = inf,
               at_most: float = inf) -> None:
        """Compute the floors of the next cells by rising bound, in one batch: `sites` sites'
        worth at least, then the cells whose bound is at most `through` until `at_most` sites
        (cells without a bound, -inf, all at once); never a cell whose bound is `below` or
        more."""
        cells, count, starts, bounds = [], 0, self.cells.starts, self.bounds
        while self.reached < len(self.queue) and bounds[self.reached] < below:
            bound = bounds[self.reached]
            wanted = bound <= through and (count < at_most or not cells)
            if not (count < sites or wanted or bound == -inf):
                break
            cell = self.queue[self.reached]
            cells.append(cell)
            count += int(starts[cell + 1] - starts[cell])
            self.reached += 1
        if not cells:
            return
        rows = self.cells.rows(cells)
        if self.floors.excluded is not None:
            rows = rows[~self.floors.excluded[rows]]
        self.rows = np.concatenate((self.rows, rows))
        self.values = np.concatenate((self.values, self.floors.values_of(rows)))


def _static_cost(site: Site, weights: Weights) -> float:
    """A site's cost terms that do not depend on the destination (rules' floor excluded)."""
    return (weights.backlog_ratio * site.backlog_ratio
            + weights.processing_hours * site.processing_hours
            + weights.priority * site.priority)
