"""Shadow rulesets: an experiment with `status: shadow` has its challengers (every variant
but the control) plan each live order of its channels beside the live plan, from the same
stock, before the live plan is allocated. Nothing of a shadow plan is allocated, stored on
the order or announced: only one `shadow_decisions` row per order and challenger (whether
its plan differs, both costs), which the experiment's results report.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from service.errors import OmsError
from service.services.experiments import live
from service.services.orders import sourcing

if TYPE_CHECKING:
    from service.domain.sourcing.model import SourcingPlan
    from service.services.context import Context
    from service.services.orders.requests import SourcingRequest
    from service.store.catalog import CatalogSnapshot
    from service.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
Shadows = list[tuple[str, str, "SourcingPlan"]]  # (experiment, shadow ruleset, its plan)


def plans(ctx: Context, uow: UnitOfWork, req: SourcingRequest, live_ref: str,
          catalog: CatalogSnapshot) -> Shadows:
    """Each shadow challenger's plan of the request (none, and no statement, when no shadow
    experiment claims the channel: the experiments are cached for a second)."""
    found: Shadows = []
    for experiment in live.running(ctx, uow, status="shadow"):
        if not experiment.touches(req.channel):
            continue
        for variant in experiment.variants[1:]:
            if variant.ruleset == live_ref:
                continue
            try:
                ruleset = ctx.rules.resolve(uow, variant.ruleset)
                if req.channel not in ruleset.channels:
                    continue
                planned = sourcing.source(ctx, uow, ruleset, catalog, req).plan
            except OmsError as exc:  # the challenger cannot plan it: nothing to compare
                log.warning("shadow %s of %s: %s", variant.ruleset, experiment.key, exc)
                continue
            found.append((experiment.key, variant.ruleset, planned))
    return found


def record(uow: UnitOfWork, order_id: str, channel: str, live_plan: SourcingPlan,
           live_ref: str, shadows: Shadows) -> None:
    """One row per challenger: whether its plan differs from the live one, both costs."""
    for experiment, ref, planned in shadows:
        uow.experiments.record_shadow({
            "order_id": order_id, "shadow": ref, "experiment": experiment,
            "channel": channel, "live_ruleset": live_ref,
            "differs": _shape(planned) != _shape(live_plan),
            "live_cost": round(live_plan.total_cost, 4),
            "shadow_cost": round(planned.total_cost, 4),
            "shadow_unfulfilled": sum(ln.quantity for ln in planned.unfulfilled),
            "decided_at": uow.clock.now()})


def _shape(plan: SourcingPlan) -> Any:
    """What a plan ships from where, and what it leaves short (costs aside)."""
    return (sorted((s.location_id, ln.sku, ln.quantity) for s in plan.shipments
                   for ln in s.lines),
            sorted((ln.sku, ln.quantity) for ln in plan.unfulfilled))
