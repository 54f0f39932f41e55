"""The policy's steps (primary mode, then its fallback), each solved within the plan's time.

Each step is one search: the cheapest full cover within k shipments (`CoverSearch`), or the
most units then the cheapest within k (`PartialSearch`, backorder). A search gets its node
budget and half of the time left; when it stops before proving its plan optimal, the same
step goes to the exact solver (if one is given) with the rest of the time, and the better
plan is kept with what was proven about it (`exact.Proof`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from math import inf
from typing import TYPE_CHECKING

from service.domain.sourcing.cover import CoverSearch
from service.domain.sourcing.exact import ExactInstance, ExactSolver, Proof, settle
from service.domain.sourcing.model import SplitPolicy
from service.domain.sourcing.partial import PARTIAL_BUDGET, PartialSearch
from service.domain.sourcing.search import (
    NODE_BUDGET,
    Budget,
    Caps,
    Items,
    Result,
    representatives,
    undominated,
)

if TYPE_CHECKING:
    from service.domain.sourcing.pool import Scored

SEARCH_SHARE = 0.5  # of the time left, for the search; the solver gets the rest
MIN_SOLVER_SECONDS = 0.002  # less than this left: the solver is not started
UNSATISFIED = "unsatisfied"  # the label when only the primary policy was tried, and failed


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a plan may take, and what proves it.

    `max_ms`: the whole plan's time (searches and solver), from `started` (a `clock()`
    reading; None: when the plan begins). None: no time limit, only the node budgets.
    `solver`: the exact solver for a search stopped unproven (None: none; the plan then says
    it is not proven).
    """

    max_ms: float | None = None
    solver: ExactSolver | None = None
    clock: Callable[[], float] = time.perf_counter
    started: float | None = None
    nodes: int = NODE_BUDGET
    partial_nodes: int = PARTIAL_BUDGET

    def deadline(self) -> float:
        """The `clock()` reading by which the plan must be decided."""
        if self.max_ms is None:
            return inf
        start = self.clock() if self.started is None else self.started
        return start + self.max_ms / 1000.0


@dataclass(slots=True)
class Decision:
    result: Result
    chosen: list[int]
    label: str
    full: bool
    proof: Proof = field(default_factory=Proof)


def steps(policy: SplitPolicy) -> list[tuple[str, int, bool]]:
    """(label, shipments, full) in the order tried; k == 0 means: nothing ships."""
    split_k = policy.max_shipments
    first_k = 1 if policy.mode == "ship_complete" else split_k
    out = [(str(policy.mode), first_k, True)]
    if policy.fallback == "reject":
        out.append(("fallback:reject", 0, True))
    elif policy.mode == "ship_complete" and policy.fallback == "allow_split":
        out += [("fallback:allow_split", split_k, True), ("fallback:backorder", split_k, False)]
    else:
        back_k = first_k if policy.fallback == "backorder" else split_k
        out.append(("fallback:backorder", back_k, False))
    return out


def decide(scored: Scored, demand: Caps, policy: SplitPolicy, limits: Limits,
           primary_only: bool = False) -> Decision:
    """Run the policy and its fallback; the chosen candidates (indices into `scored`)."""
    deadline = limits.deadline()
    plan_steps = steps(policy)
    items = representatives(scored.caps, scored.costs + policy.shipment_penalty,
                            scored.ranking, max(k for _, k, _ in plan_steps))
    proof = Proof()
    result = Result()
    pruned: dict[int, Items] = {}  # by shipment limit: the steps' searches share their items
    for label, k, full in plan_steps:
        if k == 0:
            return Decision(result, [], label, full, proof)
        result, used = _solve_step(items, demand, k, full, limits, deadline, proof, pruned)
        if result.chosen or not full:
            return Decision(result, [used.origin[j] for j in result.chosen], label, full, proof)
        if primary_only:
            return Decision(result, [], UNSATISFIED, full, proof)
    return Decision(result, [], plan_steps[-1][0], True, proof)  # pragma: no cover


def _solve_step(items: Items, demand: Caps, k: int, full: bool, limits: Limits,
                deadline: float, proof: Proof, pruned: dict[int, Items]
                ) -> tuple[Result, Items]:
    clock = limits.clock
    now = clock()
    search_deadline = now + SEARCH_SHARE * (deadline - now) if deadline < inf else inf
    # for either objective (see its docstring), as far as the search's time allows; once
    # per shipment limit (a fallback with the same limit searches the same items)
    if k not in pruned:
        pruned[k] = undominated(items, k,
                                stop=lambda: _out_of_time(clock, search_deadline, proof))
    items = pruned[k]
    budget = Budget(limits.nodes if full else limits.partial_nodes, search_deadline, clock,
                    grace=deadline)
    if full:
        result = CoverSearch(items, demand, k, budget).run()
    else:
        result = PartialSearch(items, demand, k, budget).run()
    proof.deadline_hit = proof.deadline_hit or budget.expired
    if not result.exhausted:
        return result, items
    left = deadline - clock()
    if limits.solver is not None and left > MIN_SOLVER_SECONDS:
        instance = ExactInstance(items.costs, items.caps, demand, k, full,
                                 min(left, 1e6), result.chosen)
        result = settle(result, limits.solver(instance), full, proof)
        proof.deadline_hit = proof.deadline_hit or clock() >= deadline
        return result, items
    if limits.solver is not None:
        proof.deadline_hit = True  # too little time left to start the solver
    proof.proven = False
    proof.bound, proof.units_bound = None, None
    return result, items


def _out_of_time(clock: Callable[[], float], deadline: float, proof: Proof) -> bool:
    """Whether `deadline` has passed (a deadline hit, which `proof` remembers)."""
    late = clock() > deadline
    proof.deadline_hit = proof.deadline_hit or late
    return late
