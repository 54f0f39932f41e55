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
    """The experiment's results from its orders (zeros and `orders: 0` before any)."""
    with ctx.reading() as uow:
        experiment = find(uow, role, key)
        outcomes = uow.experiments.outcomes(experiment.key)
    return {**compute(experiment, outcomes), "computed_at": ctx.clock.now().isoformat()}
