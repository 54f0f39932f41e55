"""An experiment's results from its orders: per variant the units, orders and metrics, the
difference of each treatment against control with both intervals, and the SRM check.

The unit of analysis is the unit that was randomised (the customer): each metric is a ratio
of per-unit sums (cost of a customer's orders over their number, ...) with the delta
method's variance, as GrowthBook analyses ratio metrics, so a customer with many orders
does not count as many independent observations."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from service.domain.experiments.assignment import effective_weights
from service.domain.experiments.model import Experiment
from service.domain.experiments.statistics import (
    ALPHA,
    SRM_THRESHOLD,
    TUNING,
    Sample,
    compare,
    sample_ratio,
)


@dataclass(frozen=True)
class OrderOutcome:
    """What became of one order of the experiment (read from orders, fulfilments, events)."""

    order_id: str
    variant: str
    unit: str | None
    cost: float = 0.0  # the planned cost of its shipments (not rejected, not cancelled)
    shipments: int = 0
    km: tuple[float, ...] = ()  # each shipment's distance to the ship-to
    backordered: bool = False
    rejected: bool = False
    rerouted: bool = False
    cancelled: bool = False


# name, kind, and each unit's (numerator, denominator) from its orders
Metric = tuple[str, str, Callable[[list[OrderOutcome]], tuple[float, float]]]


def _per_order(value: Callable[[OrderOutcome], float]
               ) -> Callable[[list[OrderOutcome]], tuple[float, float]]:
    return lambda orders: (math.fsum(value(o) for o in orders), float(len(orders)))


def _km(orders: list[OrderOutcome]) -> tuple[float, float]:
    """Km over shipments with a known distance."""
    return math.fsum(k for o in orders for k in o.km), float(sum(len(o.km) for o in orders))


METRICS: tuple[Metric, ...] = (
    ("cost_per_order", "mean", _per_order(lambda o: o.cost)),
    ("shipments_per_order", "mean", _per_order(lambda o: float(o.shipments))),
    ("km_per_shipment", "mean", _km),
    ("split_rate", "proportion", _per_order(lambda o: float(o.shipments >= 2))),
    ("backorder_rate", "proportion", _per_order(lambda o: float(o.backordered))),
    ("rejection_rate", "proportion", _per_order(lambda o: float(o.rejected))),
    ("reroute_rate", "proportion", _per_order(lambda o: float(o.rerouted))),
    ("cancellation_rate", "proportion", _per_order(lambda o: float(o.cancelled))),
)


def _samples(orders: list[OrderOutcome]) -> dict[str, Sample]:
    """Each metric of one variant as a ratio over its units (a unit: its orders)."""
    by_unit: dict[str, list[OrderOutcome]] = {}
    for outcome in orders:
        by_unit.setdefault(outcome.unit or outcome.order_id, []).append(outcome)
    samples = {}
    for name, _kind, per_unit in METRICS:
        pairs = [per_unit(unit_orders) for unit_orders in by_unit.values()]
        samples[name] = Sample.ratio([p[0] for p in pairs], [p[1] for p in pairs])
    return samples


def results(experiment: Experiment, outcomes: Iterable[OrderOutcome],
            alpha: float = ALPHA, tuning: float = TUNING) -> dict[str, Any]:
    """The experiment's results (zeros and `orders: 0` while it has no orders)."""
    by_variant: dict[str, list[OrderOutcome]] = {v.name: [] for v in experiment.variants}
    for outcome in outcomes:
        if outcome.variant in by_variant:
            by_variant[outcome.variant].append(outcome)
    samples = {name: _samples(orders) for name, orders in by_variant.items()}
    units = {name: len({o.unit or o.order_id for o in orders})
             for name, orders in by_variant.items()}
    weights = effective_weights([v.weight for v in experiment.variants],
                                len(experiment.variants))
    control = experiment.control.name
    return {
        "experiment": experiment.key, "status": experiment.status, "control": control,
        "orders": sum(len(o) for o in by_variant.values()), "units": sum(units.values()),
        "alpha": alpha, "sequential_tuning": tuning,
        "variants": [{"name": v.name, "ruleset": v.ruleset, "weight": w,
                      "units": units[v.name], "orders": len(by_variant[v.name]),
                      "metrics": {m: s.mean for m, s in samples[v.name].items()}}
                     for v, w in zip(experiment.variants, weights, strict=True)],
        "comparisons": [{"variant": v.name, "against": control, "metrics": {
            m: {"kind": kind, **compare(samples[control][m], samples[v.name][m], alpha,
                                        tuning).to_dict()}
            for m, kind, _sample in METRICS}} for v in experiment.variants[1:]],
        "srm": {**sample_ratio([units[v.name] for v in experiment.variants], weights,
                               SRM_THRESHOLD).to_dict(), "unit": "units"},
    }
