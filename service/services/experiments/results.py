"""The results of an experiment: per variant its units, orders and metrics, the differences
against control with always-valid and fixed-horizon intervals, and the SRM check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.experiments.report import results as compute
from service.domain.roles import Role
from service.services.experiments.current import find

if TYPE_CHECKING:
    from service.services.context import Context


def results(ctx: Context, role: Role, key: str) -> dict[str, Any]:
    """The experiment's results from its orders (zeros and `orders: 0` before any), and
    per shadow challenger the orders it planned beside, the share whose plan differed and
    the cost difference per order."""
    with ctx.reading() as uow:
        experiment = find(uow, role, key)
        outcomes = uow.experiments.outcomes(experiment.key)
        shadows = uow.experiments.shadow_summary(experiment.key)
    return {**compute(experiment, outcomes), "shadow": [
        {"ruleset": ref, "orders": orders, "plans_differ": differ,
         "differ_rate": round(differ / orders, 6) if orders else 0.0,
         "live_cost_per_order": round(live / orders, 4) if orders else 0.0,
         "shadow_cost_per_order": round(cost / orders, 4) if orders else 0.0,
         "cost_difference_per_order": round((cost - live) / orders, 4) if orders else 0.0}
        for ref, orders, differ, live, cost in shadows],
        "computed_at": ctx.clock.now().isoformat()}
