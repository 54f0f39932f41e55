"""The port to an exact solver, and how a search's answer and a solver's answer are combined.

The branch-and-bound searches stop at a node budget or a deadline. When they stop before
proving their plan optimal, the same instance (the same representatives, penalised costs,
capped units, shipment limit and objective) goes to an exact solver (a MIP) with the time
that is left; the better plan of the two is kept, and the solver's bound says how far from
the optimum it can be. The domain only knows this port: the HiGHS adapter lives in
`service/solvers` (it needs the external `highspy`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import inf

from service.domain.sourcing.search import Caps, Result


@dataclass(frozen=True, slots=True)
class ExactInstance:
    """At most `k` non-empty shipments from items (cost, capped units per line).

    `full`: every line in full, least cost. Otherwise (backorder) most units, then least cost.
    `start`: a plan already found (item indices), which the solver may start from.
    """

    costs: list[float]
    caps: list[Caps]
    demand: Caps
    k: int
    full: bool
    time_limit: float
    start: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ExactAnswer:
    """A solver's answer. `status`: optimal, infeasible, or stopped (time limit, error).

    `chosen`: the best plan it found (may be empty when stopped); `bound`: a lower bound on
    the cost of the best plan (with `units_bound` units at most, backorder); `units`/`cost`
    describe `chosen`.
    """

    status: str
    chosen: tuple[int, ...] = ()
    units: int = 0
    cost: float = inf
    bound: float = -inf
    units_bound: int | None = None
    seconds: float = 0.0
    detail: str = ""
    solver: str = "exact_solver"


ExactSolver = Callable[[ExactInstance], ExactAnswer]


@dataclass(slots=True)
class Proof:
    """What the final plan is known to be: proven optimal, or within a bound."""

    proven: bool = True
    solver: str = "branch_and_bound"
    bound: float | None = None
    units_bound: int | None = None
    solver_seconds: float = 0.0
    solver_status: str | None = None
    solver_detail: str = ""
    deadline_hit: bool = False  # a search or the solver was stopped by the plan's time

    def to_dict(self, result: Result, full: bool) -> dict[str, object]:
        """The explanation's figures: the bound and the relative gap (0 when proven)."""
        cost = result.cost if result.chosen else 0.0
        bound = cost if self.proven else self.bound
        gap = None
        if bound is not None and bound > -inf:
            gap = max(0.0, cost - bound) / max(abs(cost), 1e-9) if cost != bound else 0.0
        out: dict[str, object] = {
            "proven_optimal": self.proven,
            "solved_by": self.solver,
            "cost_bound": None if bound is None or bound == -inf else round(bound, 6),
            "gap": None if gap is None else round(gap, 9),
            # stopped by max_plan_ms before proven: the best plan found so far
            "deadline_hit": self.deadline_hit and not self.proven,
        }
        if not full:
            units = max(result.units, 0)
            out["units"] = units
            out["units_bound"] = units if self.proven else self.units_bound
        if self.solver_status is not None:
            out["solver"] = {"status": self.solver_status, "detail": self.solver_detail,
                             "ms": round(self.solver_seconds * 1000, 3)}
        return out


def settle(result: Result, answer: ExactAnswer, full: bool, proof: Proof) -> Result:
    """The better of the search's plan and the solver's; `proof` learns what was proven."""
    proof.solver_seconds += answer.seconds
    proof.solver_status = answer.status
    proof.solver_detail = answer.detail
    if answer.status == "optimal" or answer.status == "infeasible":
        proof.solver = answer.solver
    better = answer.chosen and (
        not result.chosen
        or (not full and answer.units > result.units)
        or ((full or answer.units == result.units) and answer.cost < result.cost - 1e-9)
    )
    if better:
        result = Result(answer.chosen, answer.units, answer.cost, result.nodes, True)
    if answer.status in ("optimal", "infeasible"):
        result.exhausted = False
        return result
    proof.proven = False
    proof.bound = answer.bound if answer.bound > -inf else None
    proof.units_bound = answer.units_bound
    return result
