"""A plain re-plan of the latest orders under a candidate ruleset beside the active one, on
the stock as it is now (read-only): how many orders would ship from other locations, the
units that would go short or be found, and the change of cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.errors import OmsError
from service.rules.model import Ruleset
from service.services.orders import requests, sourcing
from service.store.order_search import OrderFilters

if TYPE_CHECKING:
    from service.domain.orders.order import Order
    from service.services.context import Context
    from service.store.unit_of_work import UnitOfWork

REPLAYED = 50


def _body(order: Order) -> dict[str, Any]:
    """The request the order was placed with, as far as the order keeps it."""
    lines = [{"sku": ln.sku, "quantity": ln.quantity - ln.cancelled,
              "unit_price": float(ln.unit_price)}
             for ln in order.lines if ln.quantity > ln.cancelled]
    return {"channel": order.channel, "ship_to": order.ship_to, "lines": lines,
            "attributes": order.attributes or {}}


def _plan(ctx: Context, uow: UnitOfWork, ruleset: Ruleset, req: Any) -> Any:
    return sourcing.source(ctx, uow, ruleset, uow.catalog(), req).plan


def replay(ctx: Context, candidate: Ruleset, limit: int = REPLAYED) -> dict[str, Any]:
    """Re-plan the latest `limit` shipped-to orders under the active ruleset and candidate."""
    moved, replayed, skipped, short, cost, examples = 0, 0, 0, 0, 0.0, []
    max_lines = ctx.settings.section("sourcing")["max_order_lines"]
    with ctx.reading() as uow:
        active = ctx.rules.active(uow)
        for summary in uow.order_search.find(OrderFilters(), None, limit) or []:
            order = uow.orders.get(summary.id)
            if (order is None or order.delivery_method != "ship" or not order.ship_to
                    or order.channel not in candidate.channels):
                skipped += 1
                continue
            try:
                req = requests.parse(_body(order), uow.catalog(), max_lines)
                now, then = _plan(ctx, uow, active, req), _plan(ctx, uow, candidate, req)
            except OmsError:  # a line no longer sold, a channel that sells no shipping
                skipped += 1
                continue
            replayed += 1
            before = sorted(s.location_id for s in now.shipments)
            after = sorted(s.location_id for s in then.shipments)
            short += (sum(ln.quantity for ln in then.unfulfilled)
                      - sum(ln.quantity for ln in now.unfulfilled))
            cost += then.total_cost - now.total_cost
            if before != after:
                moved += 1
                if len(examples) < 10:
                    examples.append({"order": order.id, "from": before, "to": after})
    return {"active": active.ref, "ruleset": candidate.ref, "replayed": replayed,
            "skipped": skipped, "moved": moved, "units_short_change": short,
            "cost_change": round(cost, 2), "examples": examples}
