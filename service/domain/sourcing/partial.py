"""Most units within at most k shipments, then least cost (exact branch-and-bound).

Used when no plan covers every line. Subsets are enumerated in cost order; the units a node
can still reach are bounded by the sum of the r largest single-location gains (the units
function is submodular), and costs by the sorted order and the most negative costs.
"""

from __future__ import annotations

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

    def run(self) -> Result:
        """Search from the empty plan (zero units, zero cost)."""
        self._dfs(0, self.demand, 0, 0.0, self.k)
        return self.result

    def _upper_bound(self, start: int, d: Caps, units: int, r: int) -> int:
        caps = self.items.caps
        gains = sorted((gain(d, caps[j]) for j in range(start, len(caps))), reverse=True)
        return units + min(sum(gains[:r]), sum(d))

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
        for j in range(start, len(self.items.costs)):
            c = cost + self.items.costs[j]
            if ub < res.units or (ub == res.units and c + self.bonus[r - 1] >= res.cost):
                break
            if not self._usable(j, d):
                continue
            self.chosen.append(j)
            cap = self.items.caps[j]
            self._dfs(j + 1, residual(d, cap), units + gain(d, cap), c, r - 1)
            self.chosen.pop()

    def _usable(self, j: int, d: Caps) -> bool:
        pred = self.items.pred[j]
        if pred >= 0 and pred not in self.chosen:
            return False
        if gain(d, self.items.caps[j]):
            return True
        if self.items.costs[j] >= 0:
            return False
        caps = [self.items.caps[x] for x in self.chosen] + [self.items.caps[j]]
        return all_can_ship(caps, self.demand)

    def _record(self, units: int, cost: float) -> None:
        res = self.result
        if units > res.units or (units == res.units and cost < res.cost):
            res.units, res.cost, res.chosen = units, cost, tuple(self.chosen)
