"""The exact sourcing solver (domain port `ExactSolver`) as a MIP in HiGHS, within a time limit.

The same instance the branch-and-bound searches work on (representative locations, their
penalised costs, capped units per line, at most k shipments), the same objective:
    y_j in {0,1}, x_ji integer in [0, cap_ji]
    x_ji <= cap_ji * y_j,   y_j <= sum_i x_ji          (each shipment carries a unit)
    sum_j x_ji = q_i (full) or <= q_i (backorder),   sum_j y_j <= k
    full:      min sum_j cost_j * y_j
    backorder: max sum x (units), then min sum_j cost_j * y_j with at least that many units
The plan the search found is given to HiGHS as a start. Stopped by the time limit, the answer
carries the best plan found and HiGHS's bound. highspy is imported here only, so the domain
stays free of it (an import contract in pyproject.toml).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from math import ceil, inf
from typing import Any

import highspy
import numpy as np

from service.domain.sourcing.exact import ExactAnswer, ExactInstance
from service.domain.sourcing.search import allocate

NAME = "highs"
UNITS_SHARE = 0.6  # of a backorder's time, for the units phase
OVERRUN = 0.85  # HiGHS stops a little after its time limit: it is given this share of it
_lock = threading.Lock()  # the first construction (its banner)
_running = threading.Lock()  # one solve at a time per process: HiGHS shares a task scheduler
_banner_shown = False


def _new_highs() -> Any:
    """A silent Highs (its first construction in a process prints a banner on fd 1)."""
    global _banner_shown
    with _lock:
        if not _banner_shown:
            saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                highs = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_shown = True
        else:
            highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    return highs


class _Model:
    """Columns y_0..y_{m-1}, then one x per (item, line) the item holds."""

    def __init__(self, inst: ExactInstance) -> None:
        self.inst, self.highs = inst, _new_highs()
        m = self.m = len(inst.costs)
        self.x_index = [(j, i) for j, caps in enumerate(inst.caps) for i, c in enumerate(caps) if c]
        self.ncol = ncol = m + len(self.x_index)
        upper = [1.0] * m + [float(inst.caps[j][i]) for j, i in self.x_index]
        none = np.zeros(0, np.int32)
        self.highs.addCols(ncol, np.zeros(ncol), np.zeros(ncol), np.array(upper), 0, none, none,
                           np.zeros(0))
        self.highs.changeColsIntegrality(ncol, np.arange(ncol, dtype=np.int32),
                                         np.ones(ncol, dtype=np.uint8))
        cover: list[dict[int, float]] = [{} for _ in inst.demand]
        per_item: list[dict[int, float]] = [{j: 1.0} for j in range(m)]
        rows: list[tuple[float, float, dict[int, float]]] = []
        for t, (j, i) in enumerate(self.x_index):
            cover[i][m + t] = 1.0
            per_item[j][m + t] = -1.0
            rows.append((-inf, 0.0, {m + t: 1.0, j: -float(inst.caps[j][i])}))
        for q, coefs in zip(inst.demand, cover, strict=True):
            rows.append((float(q) if inst.full else 0.0, float(q), coefs))
        rows.extend((-inf, 0.0, coefs) for coefs in per_item)
        rows.append((-inf, float(inst.k), {j: 1.0 for j in range(m)}))
        self.add_rows(rows)

    def add_rows(self, rows: list[tuple[float, float, dict[int, float]]]) -> None:
        starts, index, value = [], [], []
        for _, _, coefs in rows:
            starts.append(len(index))
            index.extend(coefs)
            value.extend(coefs.values())
        self.highs.addRows(len(rows), np.array([r[0] for r in rows], np.float64),
                           np.array([r[1] for r in rows], np.float64), len(index),
                           np.array(starts, np.int32), np.array(index, np.int32),
                           np.array(value, np.float64))

    def start_from(self, chosen: tuple[int, ...]) -> None:
        """Give HiGHS a plan to start from (the search's)."""
        if not chosen:
            return
        values = [0.0] * self.ncol
        take = allocate([self.inst.caps[j] for j in chosen], self.inst.demand)
        units = {(j, i): float(q) for j, row in zip(chosen, take, strict=True)
                 for i, q in enumerate(row)}
        for j in chosen:
            values[j] = 1.0
        for t, key in enumerate(self.x_index):
            values[self.m + t] = units.get(key, 0.0)
        solution = highspy.HighsSolution()
        solution.col_value = values
        self.highs.setSolution(solution)

    def solve(self, costs: list[float], seconds: float, abs_gap: float) -> tuple[str, list[float]]:
        """Minimise with these column costs; the status and the best column values found."""
        highs = self.highs
        if seconds * OVERRUN < 0.002:
            return "stopped", []
        highs.changeColsCost(self.ncol, np.arange(self.ncol, dtype=np.int32), np.array(costs))
        highs.setOptionValue("mip_abs_gap", abs_gap)
        highs.setOptionValue("time_limit", seconds * OVERRUN)
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return "optimal", list(highs.getSolution().col_value)
        if status in (highspy.HighsModelStatus.kInfeasible,
                      highspy.HighsModelStatus.kSolveError):
            # HiGHS 1.16's presolve calls some feasible models of this shape infeasible
            # (seen by the benchmark's oracle), and fails on others with "Solve error" (a
            # backorder's second phase, found by the property test): again without presolve
            highs.setOptionValue("presolve", "off")
            highs.run()
            highs.setOptionValue("presolve", "choose")
            status = highs.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                return "infeasible", []
            if status == highspy.HighsModelStatus.kOptimal:
                return "optimal", list(highs.getSolution().col_value)
        found = highs.getInfo().primal_solution_status == 2  # feasible point
        return "stopped", list(highs.getSolution().col_value) if found else []

    def chosen(self, values: list[float]) -> tuple[int, ...]:
        return tuple(j for j in range(self.m) if values and values[j] > 0.5)

    def units(self, chosen: tuple[int, ...]) -> int:
        inst = self.inst
        return sum(min(q, sum(inst.caps[j][i] for j in chosen))
                   for i, q in enumerate(inst.demand))


def solve(inst: ExactInstance) -> ExactAnswer:
    """The exact optimum of the instance, or the best plan and bound within its time limit."""
    began = time.perf_counter()
    if not inst.costs:
        status = "infeasible" if inst.full and any(inst.demand) else "optimal"
        return ExactAnswer(status, (), 0, 0.0 if status == "optimal" else inf, 0.0, 0,
                           solver=NAME)
    if not _running.acquire(timeout=max(0.0, inst.time_limit * OVERRUN)):
        return ExactAnswer("stopped", seconds=time.perf_counter() - began,
                           detail="another plan's solve used the time", solver=NAME)
    try:
        inst = replace(inst, time_limit=inst.time_limit - (time.perf_counter() - began))
        return _solve(inst, time.perf_counter())
    except Exception as exc:  # the plan stands unproven rather than failing the order
        return ExactAnswer("stopped", seconds=time.perf_counter() - began,
                           detail=f"{type(exc).__name__}: {exc}", solver=NAME)
    finally:
        _running.release()


def _solve(inst: ExactInstance, began: float) -> ExactAnswer:
    model = _Model(inst)
    model.start_from(inst.start)
    y_costs = list(inst.costs) + [0.0] * len(model.x_index)
    def left() -> float:
        return inst.time_limit - (time.perf_counter() - began)

    if inst.full:
        status, values = model.solve(y_costs, left(), 1e-7)
        return _answer(model, status, values, None, began)
    # backorder: the most units first (an integer objective: a gap below 1 proves it)
    units_cols = {model.m + t: 1.0 for t in range(len(model.x_index))}
    status, values = model.solve([0.0] * model.m + [-1.0] * len(units_cols),
                                 left() * UNITS_SHARE, 0.5)
    chosen = max((model.chosen(values), inst.start), key=model.units)
    best = model.units(chosen)
    units_bound = best
    if status != "optimal":
        dual = model.highs.getInfo().mip_dual_bound
        most = sum(inst.demand)
        units_bound = min(most, max(best, ceil(-dual - 1e-6))) if -inf < dual < inf else most
    model.add_rows([(float(best), inf, units_cols)])
    model.start_from(chosen)
    second, values = model.solve(y_costs, left(), 1e-7)
    if not values:  # out of time (or a wrong "infeasible"): the plan with the most units
        values = [1.0 if j in chosen else 0.0 for j in range(model.m)]
    return _answer(model, "optimal" if status == second == "optimal" else "stopped", values,
                   None if status == "optimal" else units_bound, began)


def _answer(model: _Model, status: str, values: list[float], units_bound: int | None,
            began: float) -> ExactAnswer:
    chosen = model.chosen(values)
    cost = sum(model.inst.costs[j] for j in chosen) if chosen else inf
    info = model.highs.getInfo()
    bound = cost if status == "optimal" else -inf
    if status == "stopped":
        dual = info.mip_dual_bound
        bound = min(cost, dual) if -inf < dual < inf else -inf
    detail = "" if status in ("optimal", "infeasible") else (
        "stopped: " + model.highs.modelStatusToString(model.highs.getModelStatus()))
    return ExactAnswer(status, chosen, model.units(chosen), cost, bound, units_bound,
                       time.perf_counter() - began, detail, NAME)
