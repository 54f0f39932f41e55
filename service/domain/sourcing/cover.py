"""Cheapest set of at most k locations covering every line in full (exact branch-and-bound).

Branching picks the uncovered line with the fewest holders and tries, cheapest first, which
holder is the first of the plan's holders of that line; earlier holders are excluded below
that branch, so every set is reached once. Bounds: sorted costs, the cheapest holder of each
line still short, and the most negative costs that extra shipments could add.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate

from service.domain.sourcing.search import (
    Budget,
    Caps,
    Items,
    Result,
    all_can_ship,
    negative_bonus,
    residual,
)


class CoverSearch:
    """Minimum total cost, at most k shipments, every line in full, every shipment non-empty."""

    def __init__(self, items: Items, demand: Caps, k: int, budget: Budget | None = None) -> None:
        self.items, self.demand, self.k = items, demand, k
        self.budget = budget or Budget()
        caps = items.caps
        self.holders = [[j for j, cap in enumerate(caps) if cap[i]] for i in range(len(demand))]
        self.min_holder = [items.costs[h[0]] if h else float("inf") for h in self.holders]
        self.bonus = negative_bonus(items.costs, k)
        self.negatives = [j for j, c in enumerate(items.costs) if c < 0]
        # slots: line i needs at least `needs(i, units)` holders, and a shipment holds at
        # most `widest` lines, so r shipments cannot cover lines needing more than r * widest
        self.prefix = [list(accumulate(sorted((caps[j][i] for j in h), reverse=True)))
                       for i, h in enumerate(self.holders)]
        self.widest = max((sum(map(bool, cap)) for cap in caps), default=0)
        self.chosen: list[int] = []
        self.excluded: set[int] = set()
        self.result = Result()

    def run(self) -> Result:
        """Search; a greedy plan stands in when the node budget ran out before any plan."""
        if any(not h for h, q in zip(self.holders, self.demand, strict=True) if q):
            return self.result
        if not self._enough_slots(self.demand, self.k):
            return self.result
        self._branch(self.demand, 0.0, self.k)
        if self.result.exhausted and not self.result.chosen:
            self._seed_greedy()
        return self.result

    def _seed_greedy(self) -> None:
        """Most open units each time (cheapest on ties) until every line is covered.

        It runs on the budget's grace time (`Budget.for_seeding`); when that is up too, no
        cover is seeded and the policy's next step (its fallback) plans instead.
        """
        budget = self.budget.for_seeding()
        d, cost, picked = self.demand, 0.0, []
        caps, costs = self.items.caps, self.items.costs
        while any(d) and len(picked) < self.k:
            best, best_key = None, (-1, 0.0)
            for j in range(len(costs)):
                if budget.tick():
                    self.budget.expired = True
                    return
                key = (sum(min(a, b) for a, b in zip(d, caps[j], strict=True)), -costs[j])
                if key > best_key and j not in picked:
                    best, best_key = j, key
            if best is None:
                break
            picked.append(best)
            cost += costs[best]
            d = residual(d, caps[best])
        if not any(d):
            self.result.chosen, self.result.cost = tuple(picked), cost
            self.result.units = sum(self.demand)

    def _usable(self, j: int) -> bool:
        if j in self.excluded or j in self.chosen:
            return False
        pred = self.items.pred[j]
        return pred < 0 or pred in self.chosen

    def _branch(self, d: Caps, cost: float, r: int) -> None:
        res = self.result
        res.nodes += 1
        if res.exhausted or self.budget.spent(res.nodes):
            res.exhausted = True
            return
        if not any(d):
            self._record(cost)
            if r and self.negatives:
                self._extras(cost, r, 0)
            return
        line = min((i for i, q in enumerate(d) if q), key=lambda i: len(self.holders[i]))
        added: list[int] = []
        for j in self.holders[line]:
            c = cost + self.items.costs[j]
            if c + self.bonus[r - 1] >= res.cost:
                break
            if self.budget.tick():
                res.exhausted = True
                break
            if j in self.excluded or j in self.chosen:
                continue
            if self._usable(j) and self._promising(nd := residual(d, self.items.caps[j]), c,
                                                   r - 1):
                self.chosen.append(j)
                self._branch(nd, c, r - 1)
                self.chosen.pop()
            self.excluded.add(j)
            added.append(j)
        self.excluded.difference_update(added)

    def _promising(self, d: Caps, cost: float, r: int) -> bool:
        if not any(d):
            return True
        if r == 0:
            return False
        need = max(self.min_holder[i] for i, q in enumerate(d) if q)
        return cost + need + self.bonus[r - 1] < self.result.cost and self._enough_slots(d, r)

    def _enough_slots(self, d: Caps, r: int) -> bool:
        """Whether r shipments have slots enough for the holders the open lines need."""
        needed = 0
        for i, q in enumerate(d):
            if q:
                prefix = self.prefix[i]
                if prefix[-1] < q:
                    return False
                needed += bisect_left(prefix, q) + 1
        return needed <= r * self.widest

    def _extras(self, cost: float, r: int, start: int) -> None:
        """Shipments of negative cost that still carry a unit each lower the total further."""
        caps = self.items.caps
        for pos in range(start, len(self.negatives)):
            if self.budget.tick():
                self.result.exhausted = True
                return
            j = self.negatives[pos]
            if not self._usable(j):
                continue
            if not all_can_ship([caps[x] for x in self.chosen] + [caps[j]], self.demand,
                                self.budget):
                if self.budget.expired:
                    self.result.exhausted = True
                    return
                continue
            self.chosen.append(j)
            self._record(cost + self.items.costs[j])
            if r > 1:
                self._extras(cost + self.items.costs[j], r - 1, pos + 1)
            self.chosen.pop()

    def _record(self, cost: float) -> None:
        if cost < self.result.cost:
            self.result.cost = cost
            self.result.chosen = tuple(self.chosen)
            self.result.units = sum(self.demand)
