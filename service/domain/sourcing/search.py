"""Exact branch-and-bound over a reduced set of locations for the sourcing objective.

Only the capped capability vector (units of each line a location can give, capped at the
line's quantity) decides what a location can do for an order, so locations with the same
vector are interchangeable and only the k cheapest of each group can appear in an optimal
plan of at most k shipments. The searches run on those representatives ("items").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from math import inf

import numpy as np

Caps = tuple[int, ...]
NODE_BUDGET = 200_000
CLOCK_EVERY = 8  # nodes between two looks at the clock
TICKS_PER_LOOK = 64  # steps of an inner loop (`Budget.tick`) between two looks at the clock
SMALL = 128  # rows up to which `representatives` loops in Python (cheaper than arrays)


@dataclass(slots=True)
class Budget:
    """What one search may spend: nodes, and time until `deadline` (`clock()` seconds)."""

    nodes: int = NODE_BUDGET
    deadline: float = inf
    clock: Callable[[], float] = time.perf_counter
    grace: float = inf  # until when a stand-in plan (a greedy seed) may still be built
    ticks: int = 0
    expired: bool = False  # the clock was seen past the deadline

    def spent(self, nodes: int) -> bool:
        """Whether a search that has visited `nodes` nodes must stop now."""
        if nodes > self.nodes or self.expired:
            return True
        return nodes % CLOCK_EVERY == 0 and self.past_deadline()

    def tick(self) -> bool:
        """One step of a loop whose length grows with the items: whether the time is up.

        The clock is read once every `TICKS_PER_LOOK` steps, so a loop pays an addition and
        a comparison per step; once the time is up, every later call says so at once.
        """
        self.ticks += 1
        return self.expired or (self.ticks % TICKS_PER_LOOK == 0 and self.past_deadline())

    def past_deadline(self) -> bool:
        """Read the clock: whether the deadline has passed (remembered in `expired`)."""
        if self.deadline < inf and self.clock() > self.deadline:
            self.expired = True
        return self.expired

    def for_seeding(self) -> Budget:
        """The budget of a greedy stand-in plan: this one's clock, until the grace deadline."""
        return Budget(self.nodes, self.grace, self.clock)

    def left(self) -> float:
        """Seconds until the deadline (never below 0; inf without one)."""
        return max(0.0, self.deadline - self.clock()) if self.deadline < inf else inf


@dataclass(slots=True)
class Items:
    """Representatives sorted by cost; `pred[j]` is the next cheaper member of j's group."""

    costs: list[float]
    caps: list[Caps]
    pred: list[int]
    origin: list[int]


@dataclass(slots=True)
class Result:
    chosen: tuple[int, ...] = ()
    units: int = -1
    cost: float = inf
    nodes: int = 0
    exhausted: bool = False
    trail: list[int] = field(default_factory=list)


def reduce_items(caps: list[Caps], costs: list[float], k: int, order: list[int]) -> Items:
    """Keep the k cheapest locations of each capability group; `order` sorts by cost."""
    seen: dict[Caps, tuple[int, int]] = {}
    items = Items([], [], [], [])
    for idx in order:
        vec = caps[idx]
        last, size = seen.get(vec, (-1, 0))
        if size >= k:
            continue
        seen[vec] = (len(items.costs), size + 1)
        items.costs.append(costs[idx])
        items.caps.append(vec)
        items.pred.append(last)
        items.origin.append(idx)
    return items


def representatives(caps: np.ndarray, costs: np.ndarray, ranking: np.ndarray, k: int
                    ) -> Items:
    """`reduce_items` over arrays: the k cheapest rows of each capability group, as items.

    Up to SMALL rows (a ring's sixteen locations), `reduce_items` runs on the rows as lists:
    the same items, without a dozen array operations' fixed cost on every plan.

    `caps` holds one row of capped units per location, `ranking` its indices by rising cost
    (ties in a fixed order); `origin` holds indices into those arrays. Only the kept rows
    become Python objects, so the work per row is a few array operations.
    """
    if not len(ranking):
        return Items([], [], [], [])
    if len(ranking) <= SMALL:  # the array steps' fixed cost exceeds the whole loop's
        return reduce_items([tuple(row) for row in caps.tolist()], costs.tolist(), k,
                            ranking.tolist())
    group = _groups(caps[ranking])
    by_group = np.argsort(group, kind="stable")  # cost order kept within a group
    sorted_group = group[by_group]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    rank = np.empty(len(group), dtype=np.int64)
    rank[by_group] = np.arange(len(group)) - first
    kept = ranking[rank < k]
    kept_caps = [tuple(row) for row in caps[kept].tolist()]
    items = reduce_items(kept_caps, costs[kept].tolist(), k, list(range(len(kept))))
    items.origin = [int(kept[j]) for j in items.origin]
    return items


def _groups(caps: np.ndarray) -> np.ndarray:
    """A number per row, equal for equal rows (mixed-radix when it fits in 62 bits)."""
    bases = caps.max(axis=0, initial=0) + 1
    if float(np.prod(bases.astype(float))) < 2.0 ** 62:
        radix = np.cumprod(np.r_[1, bases[:-1]]).astype(np.int64)
        return caps @ radix
    return np.unique(caps, axis=0, return_inverse=True)[1].ravel()


def undominated(items: Items, k: int, chunk: int = 256,
                stop: Callable[[], bool] | None = None) -> Items:
    """Drop items that k cheaper (earlier) items dominate: as many units of every line.

    In a plan of at most k shipments using a dominated item, one of its k dominators is
    unused (the plan has at most k - 1 other shipments) and can take its place: as many
    units of every line or more, so the lines stay covered (or as many units ship), no more
    cost, and it can carry whatever the dropped item carried, so no shipment is empty. Both
    objectives (full cover, most units then least cost) therefore keep their optimum.
    (A dominator that was itself dropped has k kept dominators, which dominate as well, so
    counting every earlier dominator is enough.)
    Keeping an item is always safe, so when `stop()` says the time is up (asked between
    chunks of `chunk` items), the items not yet looked at are all kept.
    """
    n = len(items.costs)
    if n <= k:
        return items
    caps = np.array(items.caps, dtype=np.int64)
    keep = np.ones(n, dtype=bool)
    for lo in range(0, n, chunk):
        if lo and stop is not None and stop():
            break
        hi = min(n, lo + chunk)
        covers = (caps[:hi, None, :] >= caps[None, lo:hi, :]).all(axis=2)  # [a, b]: a >= b
        earlier = np.arange(hi)[:, None] < np.arange(lo, hi)[None, :]
        keep[lo:hi] = (covers & earlier).sum(axis=0) < k
    out = Items([], [], [], [])
    last: dict[Caps, int] = {}
    for j in np.flatnonzero(keep).tolist():
        vec = items.caps[j]
        out.pred.append(last.get(vec, -1))
        last[vec] = len(out.costs)
        out.costs.append(items.costs[j])
        out.caps.append(vec)
        out.origin.append(items.origin[j])
    return out


def negative_bonus(costs: list[float], k: int) -> list[float]:
    """bonus[r]: the sum of the r most negative costs (a lower bound for r extra shipments)."""
    bonus = [0.0]
    for c in sorted(c for c in costs if c < 0)[:k]:
        bonus.append(bonus[-1] + c)
    while len(bonus) <= k:
        bonus.append(bonus[-1])
    return bonus


def ship_assignment(caps: list[Caps], demand: Caps, budget: Budget | None = None
                    ) -> list[int] | None:
    """A line for each chosen location to carry one unit of, or None (a small b-matching).

    With a `budget`, every step of the backtracking ticks it, and when its time is up the
    answer is None (not known to exist): callers then leave the location out, which is safe.
    The first assignment in (location, line) order is returned; the loads from which the
    locations left cannot be placed are remembered, so the backtracking visits each
    (location, loads) state once instead of every order of the earlier choices.
    """
    load = [0] * len(demand)
    assign: list[int] = []
    dead_ends: set[tuple[int, ...]] = set()

    def place(n: int) -> bool:
        if n == len(caps):
            return True
        state = (n, *load)
        if state in dead_ends:
            return False
        for i, cap in enumerate(caps[n]):
            if budget is not None and budget.tick():
                return False
            if cap > 0 and load[i] < demand[i]:
                load[i] += 1
                assign.append(i)
                if place(n + 1):
                    return True
                assign.pop()
                load[i] -= 1
        dead_ends.add(state)
        return False

    return assign if place(0) else None


def all_can_ship(caps: list[Caps], demand: Caps, budget: Budget | None = None) -> bool:
    """Whether every chosen location can carry at least one unit (False: not known, the
    `budget`'s time being up)."""
    return ship_assignment(caps, demand, budget) is not None


def allocate(caps: list[Caps], demand: Caps) -> list[list[int]]:
    """Units of each line per chosen location: one reserved each, then cheapest first."""
    take = [[0] * len(demand) for _ in caps]
    for n, line in enumerate(ship_assignment(caps, demand) or []):
        take[n][line] = 1
    for i, q in enumerate(demand):
        left = q - sum(row[i] for row in take)
        for n, cap in enumerate(caps):
            extra = min(left, cap[i] - take[n][i])
            if extra > 0:
                take[n][i] += extra
                left -= extra
    return take


def residual(d: Caps, cap: Caps) -> Caps:
    """Demand left after a location gives what it can."""
    return tuple(a - b if a > b else 0 for a, b in zip(d, cap, strict=True))
