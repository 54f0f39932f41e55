"""Reference answers for sourcing: the exact MIP optimum (HiGHS) and the closest-location plan.

Benchmarks and tests only: highspy is imported inside the solver so that the service never
needs it. The MIP minimises the very objective plan_sourcing does (see its planner module):
    y_l in {0,1}, x_li integer in [0, min(available_li, q_i)]
    x_li <= min(available_li, q_i) * y_l,   y_l <= sum_i x_li   (a shipment carries a unit)
    sum_l x_li = q_i (full) or <= q_i (backorder),   sum_l y_l <= k
    min sum_l (location_cost_l + shipment_penalty) * y_l
Backorder is lexicographic: first maximise sum x, then minimise cost at that many units.

A cost bound (any figure; the bench passes the planner's cost) only makes the MIP smaller,
never changes its answer. With full coverage and at most k shipments, a plan P costing no
more than B + eps holds only locations l with c_l <= B + eps - N, N the sum of the k - 1
most negative location costs (c_l is P's cost less its other locations' costs, each at least
its own negative part). So the MIP is first solved over those locations only; its optimum is
the whole MIP's when it costs at most B + eps (the whole optimum costs no more, so it lies
among them). Else (infeasible, or dearer than B) the whole MIP is solved. Backorder steps
(units maximised first) always solve the whole MIP.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.domain.geo import haversine_km
from service.domain.sourcing.costing import LatLon, location_cost
from service.domain.sourcing.model import (
    Candidate,
    ShippingModel,
    SourcingLine,
    SplitPolicy,
    Weights,
)
from service.domain.sourcing.planner import merge_lines


@dataclass(frozen=True, slots=True)
class OraclePlan:
    """`shipments`: location_id -> {sku: units}; `solve_seconds`: time inside HiGHS runs."""

    total_cost: float
    shipments: dict[str, dict[str, int]]
    solve_seconds: float
    status: str
    policy_applied: str = ""
    units: int = 0


@dataclass(frozen=True, slots=True)
class _Model:
    lines: tuple[SourcingLine, ...]
    locations: list[Candidate]
    costs: list[float]
    caps: list[tuple[int, ...]]


_banner_silenced = False


def _new_highs() -> Any:
    """A silent Highs instance (the first construction prints a banner on fd 1)."""
    global _banner_silenced
    import highspy

    if _banner_silenced:
        highs = highspy.Highs()
    else:
        saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_silenced = True
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.0)
    return highs


def _build_model(
    lines: Sequence[SourcingLine],
    ship_to: LatLon,
    candidates: Sequence[Candidate],
    weights: Weights,
    shipping: ShippingModel,
    penalty: float,
) -> _Model:
    order = merge_lines(lines)
    model = _Model(order, [], [], [])
    for cand in candidates:
        caps = tuple(max(0, min(cand.available.get(line.sku, 0), line.quantity)) for line in order)
        if any(caps):
            model.locations.append(cand)
            model.caps.append(caps)
            model.costs.append(location_cost(cand, ship_to, weights, shipping) + penalty)
    return model


class _Mip:
    """The sourcing MIP in HiGHS: columns y_0..y_{m-1}, then one x per (location, line) held."""

    def __init__(self, model: _Model, k: int, full: bool) -> None:
        import numpy as np

        self.np, self.model, self.highs = np, model, _new_highs()
        self.run_seconds = 0.0
        m = len(model.locations)
        self.x_index = [
            (n, i) for n, caps in enumerate(model.caps) for i, c in enumerate(caps) if c
        ]
        self.ncol = ncol = m + len(self.x_index)
        upper = [1.0] * m + [float(model.caps[n][i]) for n, i in self.x_index]
        empty = np.zeros(0, np.int32)
        self.highs.addCols(
            ncol, np.zeros(ncol), np.zeros(ncol), np.array(upper), 0, empty, empty, np.zeros(0)
        )
        self.highs.changeColsIntegrality(
            ncol, np.arange(ncol, dtype=np.int32), np.ones(ncol, dtype=np.uint8)
        )
        self.add_rows(self._rows(k, full))

    def add_rows(self, rows: list[tuple[float, float, dict[int, float]]]) -> None:
        """Rows lower <= sum coef * col <= upper, added in one call."""
        np = self.np
        starts, index, value = [], [], []
        for _, _, coefs in rows:
            starts.append(len(index))
            index.extend(coefs)
            value.extend(coefs.values())
        self.highs.addRows(
            len(rows),
            np.array([r[0] for r in rows], np.float64),
            np.array([r[1] for r in rows], np.float64),
            len(index),
            np.array(starts, np.int32),
            np.array(index, np.int32),
            np.array(value, np.float64),
        )

    def _rows(self, k: int, full: bool) -> list[tuple[float, float, dict[int, float]]]:
        m, inf = len(self.model.locations), float("inf")
        cover: list[dict[int, float]] = [{} for _ in self.model.lines]
        per_location: list[dict[int, float]] = [{n: 1.0} for n in range(m)]
        rows = []
        for t, (n, i) in enumerate(self.x_index):
            cover[i][m + t] = 1.0
            per_location[n][m + t] = -1.0
            rows.append((-inf, 0.0, {m + t: 1.0, n: -float(self.model.caps[n][i])}))
        for line, coefs in zip(self.model.lines, cover, strict=True):
            rows.append((line.quantity if full else 0.0, float(line.quantity), coefs))
        rows.extend((-inf, 0.0, coefs) for coefs in per_location)
        rows.append((-inf, float(k), {n: 1.0 for n in range(m)}))
        return rows

    def _run(self) -> None:
        start = time.perf_counter()
        self.highs.run()
        self.run_seconds += time.perf_counter() - start

    def minimise(self, costs: dict[int, float]) -> tuple[str, float, list[float]]:
        """Solve with the given column costs; return status, objective and column values."""
        np, highs, ncol = self.np, self.highs, self.ncol
        full = [costs.get(c, 0.0) for c in range(ncol)]
        highs.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), np.array(full))
        highs.setOptionValue("presolve", "choose")
        self._run()
        status = highs.modelStatusToString(highs.getModelStatus()).lower()
        if status != "optimal":
            # HiGHS 1.16 presolve wrongly reports some feasible models of this shape as
            # infeasible (seen with the backorder units row): confirm without presolve.
            highs.setOptionValue("presolve", "off")
            self._run()
            status = highs.modelStatusToString(highs.getModelStatus()).lower()
        if status != "optimal":
            return ("infeasible" if "infeasible" in status else status), float("inf"), []
        values = list(highs.getSolution().col_value)
        return "optimal", highs.getInfo().objective_function_value, values


def solve_exact(model: _Model, k: int, full: bool) -> OraclePlan:
    """Exact optimum for at most k shipments, full coverage or (lexicographic) backorder."""
    mip = _Mip(model, k, full)
    m = len(model.locations)
    y_costs = {n: c for n, c in enumerate(model.costs)}
    units = sum(line.quantity for line in model.lines)
    if not full:
        x_all = {m + t: -1.0 for t in range(len(mip.x_index))}
        status, objective, _ = mip.minimise(x_all)
        units = round(-objective) if status == "optimal" else 0
        mip.add_rows([(float(units), float("inf"), x_all and {c: 1.0 for c in x_all})])
    status, objective, values = mip.minimise(y_costs)
    elapsed = mip.run_seconds
    if status != "optimal":
        return OraclePlan(float("inf"), {}, elapsed, status)
    return OraclePlan(objective, _shipments(model, mip, values), elapsed, status, units=units)


def _shipments(model: _Model, mip: _Mip, values: list[float]) -> dict[str, dict[str, int]]:
    m = len(model.locations)
    out: dict[str, dict[str, int]] = {}
    for t, (n, i) in enumerate(mip.x_index):
        units = round(values[m + t])
        if units:
            loc = out.setdefault(model.locations[n].location_id, {})
            loc[model.lines[i].sku] = units
    return out


def optimal_plan(
    lines: Sequence[SourcingLine],
    ship_to: LatLon,
    candidates: Sequence[Candidate],
    weights: Weights,
    policy: SplitPolicy,
    shipping: ShippingModel | None = None,
    cost_bound: float | None = None,
) -> OraclePlan:
    """The exact optimum of plan_sourcing's objective, with the same policy and fallbacks;
    `cost_bound` (e.g. the planner's cost) narrows the MIP first (see the module doc)."""
    model = _build_model(
        lines, ship_to, candidates, weights, shipping or ShippingModel(), policy.shipment_penalty
    )
    split_k = policy.max_shipments
    first_k = 1 if policy.mode == "ship_complete" else split_k
    steps: list[tuple[str, int, bool]] = [(policy.mode, first_k, True)]
    if policy.fallback == "reject":
        steps.append(("fallback:reject", 0, True))
    elif policy.mode == "ship_complete" and policy.fallback == "allow_split":
        steps += [("fallback:allow_split", split_k, True), ("fallback:backorder", split_k, False)]
    else:
        back_k = first_k if policy.fallback == "backorder" else split_k
        steps.append(("fallback:backorder", back_k, False))
    spent = 0.0
    for label, k, full in steps:
        if k == 0:
            return OraclePlan(0.0, {}, spent, "optimal", label, 0)
        plan = _solve_within(model, k, full, cost_bound)
        spent += plan.solve_seconds
        if plan.status == "optimal":
            return OraclePlan(
                plan.total_cost, plan.shipments, spent, plan.status, label, plan.units
            )
    return OraclePlan(float("inf"), {}, spent, "infeasible", steps[-1][0])


def _solve_within(model: _Model, k: int, full: bool, bound: float | None) -> OraclePlan:
    """The exact optimum, over the locations a plan costing at most `bound` can hold when
    that settles it, else over every location (module doc)."""
    if bound is None or not full or not math.isfinite(bound):
        return _solve_or_trivial(model, k, full)
    slack = 1e-9 * max(1.0, abs(bound))
    negatives = sum(sorted(cost for cost in model.costs if cost < 0)[: k - 1])
    narrowed = _narrowed(model, bound + slack - negatives)
    if len(narrowed.locations) == len(model.locations):
        return _solve_or_trivial(model, k, full)
    plan = _solve_or_trivial(narrowed, k, full)
    if plan.status == "optimal" and plan.total_cost <= bound + slack:
        return plan
    whole = _solve_or_trivial(model, k, full)
    return OraclePlan(whole.total_cost, whole.shipments, whole.solve_seconds + plan.solve_seconds,
                      whole.status, whole.policy_applied, whole.units)


def _narrowed(model: _Model, most: float) -> _Model:
    """The model over the locations costing at most `most` (their order kept)."""
    keep = [n for n, cost in enumerate(model.costs) if cost <= most]
    return _Model(model.lines, [model.locations[n] for n in keep],
                  [model.costs[n] for n in keep], [model.caps[n] for n in keep])


def _solve_or_trivial(model: _Model, k: int, full: bool) -> OraclePlan:
    if model.locations:
        return solve_exact(model, k, full)
    if full:
        return OraclePlan(float("inf"), {}, 0.0, "infeasible")
    return OraclePlan(0.0, {}, 0.0, "optimal")


@dataclass(frozen=True, slots=True)
class ClosestPlan:
    """The naive plan: each line from the closest locations holding it, shipments unlimited."""

    total_cost: float
    shipments: dict[str, dict[str, int]]
    shipment_count: int
    mean_distance_km: float
    unfulfilled_units: int


def closest_location_heuristic(
    lines: Sequence[SourcingLine],
    ship_to: LatLon,
    candidates: Sequence[Candidate],
    weights: Weights,
    policy: SplitPolicy,
    shipping: ShippingModel | None = None,
) -> ClosestPlan:
    """Each line from the closest location that has it, the rest from the next closest."""
    shipping = shipping or ShippingModel()
    order = merge_lines(lines)
    by_distance = sorted(
        candidates, key=lambda c: haversine_km(c.lat, c.lon, ship_to[0], ship_to[1])
    )
    shipments: dict[str, dict[str, int]] = {}
    used: dict[str, Candidate] = {}
    short = 0
    for line in order:
        left = line.quantity
        for cand in by_distance:
            units = min(left, max(0, cand.available.get(line.sku, 0)))
            if units:
                shipments.setdefault(cand.location_id, {})[line.sku] = units
                used[cand.location_id] = cand
                left -= units
            if not left:
                break
        short += left
    penalty = policy.shipment_penalty
    cost = sum(location_cost(c, ship_to, weights, shipping) + penalty for c in used.values())
    km = [haversine_km(c.lat, c.lon, ship_to[0], ship_to[1]) for c in used.values()]
    mean_km = sum(km) / len(km) if km else 0.0
    return ClosestPlan(cost, shipments, len(used), mean_km, short)
