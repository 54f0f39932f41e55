"""Most units within at most k shipments, then least cost (exact branch-and-bound).

Used when no plan covers every line. Subsets are enumerated in cost order; the units a node
can still reach are bounded by the sum of the r largest single-location gains (the units
function is submodular), and costs by the sorted order and the most negative costs.
"""

from __future__ import annotations

from math import inf

import numpy as np

from service.domain.sourcing.search import (
    Budget,
    Caps,
    Items,
    Result,
    all_can_ship,
    negative_bonus,
    residual,
)

PARTIAL_BUDGET = 50_000
VECTOR_FROM = 48  # items left from which the bound is computed with numpy


def gain(d: Caps, cap: Caps) -> int:
    """Units a location adds towards the demand still open."""
    return sum(a if a < b else b for a, b in zip(d, cap, strict=True))


class PartialSearch:
    """Maximise units fulfilled with at most k non-empty shipments, then minimise cost."""

    def __init__(self, items: Items, demand: Caps, k: int, budget: Budget | None = None) -> None:
        self.items, self.demand, self.k = items, demand, k
        self.budget = budget or Budget(PARTIAL_BUDGET)
        self.bonus = negative_bonus(items.costs, k)
        self.chosen: list[int] = []
        self.result = Result(units=0, cost=0.0)
        self.matrix = np.array(items.caps, dtype=np.int64).reshape(len(items.caps), len(demand))
        # per line, the k largest holdings; a shipment holds at most `widest` lines
        self.tops = [sorted((cap[i] for cap in items.caps if cap[i]), reverse=True)[:k]
                     for i in range(len(demand))]
        self.widest = max((sum(map(bool, cap)) for cap in items.caps), default=0)

    def run(self) -> Result:
        """Search from the empty plan (zero units, zero cost), a greedy plan in hand."""
        greedy = self._greedy()
        self.result.units, self.result.cost, self.result.chosen = greedy
        self._dfs(0, self.demand, 0, 0.0, self.k)
        return self.result

    def _greedy(self) -> tuple[int, float, tuple[int, ...]]:
        """Most new units each time (cheapest on ties): the incumbent the search must beat.

        On the budget's grace time (`Budget.for_seeding`): when it is up, the best location
        looked at so far is the last one picked (every pick adds units, so the plan is valid).
        """
        budget = self.budget.for_seeding()
        d, units, cost, picked = self.demand, 0, 0.0, []
        caps, costs = self.items.caps, self.items.costs
        while len(picked) < self.k and not budget.expired:
            best, best_key = None, (-1, 0.0)
            for j in range(len(costs)):
                if self._usable_after(picked, j):
                    key = (gain(d, caps[j]), -costs[j])
                    if key > best_key:
                        best, best_key = j, key
                if budget.tick():
                    self.budget.expired = True
                    break
            if best is None or not best_key[0]:
                break
            picked.append(best)
            units, cost = units + best_key[0], cost + costs[best]
            d = residual(d, caps[best])
        return units, cost, tuple(picked)

    def _usable_after(self, picked: list[int], j: int) -> bool:
        pred = self.items.pred[j]
        return j not in picked and (pred < 0 or pred in picked)

    def _slot_bound(self, d: Caps, r: int) -> int:
        """r shipments fill at most r * widest (line, holder) slots: the best such slots.

        A line's i-th holder adds at most what its i-th largest holding adds to the ones
        before (capped at the open units); these gains fall with i, so the best slots of all
        lines together bound the units.
        """
        gains = []
        for q, top in zip(d, self.tops, strict=True):
            got = 0
            for units in top[:r]:
                if got >= q:
                    break
                step = min(q - got, units)
                gains.append(step)
                got += step
        gains.sort(reverse=True)
        return sum(gains[:r * self.widest])

    def _upper_bound(self, start: int, d: Caps, units: int, r: int) -> int:
        return units + min(self._gain_bound(start, d, r), self._slot_bound(d, r))

    def _gain_bound(self, start: int, d: Caps, r: int) -> int:
        if len(self.items.caps) - start >= VECTOR_FROM:
            gains = np.minimum(self.matrix[start:], np.array(d)).sum(axis=1)
            if len(gains) > r:
                gains = np.partition(gains, len(gains) - r)[len(gains) - r:]
            return min(int(gains.sum()), sum(d))
        caps = self.items.caps
        top = sorted((gain(d, caps[j]) for j in range(start, len(caps))), reverse=True)
        return min(sum(top[:r]), sum(d))

    def _dfs(self, start: int, d: Caps, units: int, cost: float, r: int) -> None:
        res = self.result
        res.nodes += 1
        if res.exhausted or self.budget.spent(res.nodes):
            res.exhausted = True
            return
        self._record(units, cost)
        if r == 0 or start >= len(self.items.costs):
            return
        ub = self._upper_bound(start, d, units, r)
        if units < res.units >= ub and self._tie_cost_floor(start, d, units, cost, r) >= res.cost:
            return  # at best as many units as the plan in hand, and never cheaper
        for j in range(start, len(self.items.costs)):
            c = cost + self.items.costs[j]
            if ub < res.units or (ub == res.units and c + self.bonus[r - 1] >= res.cost):
                break
            if self.budget.tick():
                res.exhausted = True
                break
            if not self._usable(j, d):
                continue
            self.chosen.append(j)
            cap = self.items.caps[j]
            self._dfs(j + 1, residual(d, cap), units + gain(d, cap), c, r - 1)
            self.chosen.pop()

    def _tie_cost_floor(self, start: int, d: Caps, units: int, cost: float, r: int) -> float:
        """The least cost at which the plans below reach the incumbent's units.

        They need at least m more shipments (the fewest whose unit bounds reach those units);
        items are in cost order, so the next m costs, plus any negative ones after them, are
        the least those shipments can cost.
        """
        need = self.result.units - units
        m = next((s for s in range(1, r + 1)
                  if self._slot_bound(d, s) >= need and self._gain_bound(start, d, s) >= need),
                 0)
        costs = self.items.costs[start:start + r]
        if not m or len(costs) < m:
            return inf
        return cost + sum(costs[:m]) + sum(min(0.0, c) for c in costs[m:])

    def _usable(self, j: int, d: Caps) -> bool:
        pred = self.items.pred[j]
        if pred >= 0 and pred not in self.chosen:
            return False
        if gain(d, self.items.caps[j]):
            return True
        if self.items.costs[j] >= 0:
            return False
        caps = [self.items.caps[x] for x in self.chosen] + [self.items.caps[j]]
        return all_can_ship(caps, self.demand, self.budget)

    def _record(self, units: int, cost: float) -> None:
        res = self.result
        if units > res.units or (units == res.units and cost < res.cost):
            res.units, res.cost, res.chosen = units, cost, tuple(self.chosen)
