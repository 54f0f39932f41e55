"""One SKU's locations behind a channel's figure, a page at a time (the console's explorer):
every location's units counted for the total and the order, only the page's explained."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role, authorize
from service.services.ats.position import PositionStock, explain_position, position_units
from service.services.availability.reads import check_request
from service.services.inventory import reservations
from service.services.rulesets.active import known_channel
from service.services.transfers.in_transit import in_transit_to

if TYPE_CHECKING:
    from service.services.context import Context


def locations_page(ctx: Context, role: Role, channel: Any, sku: Any, number: int,
                   per_page: int) -> dict[str, Any]:
    """The SKU's figure for the channel computed live (as read(..., "locations") does: every
    position, and destinations with units in transit), and page `number` (from 1; past the
    last: the last) of its locations, most available first then by id, each explained."""
    channel, skus = check_request(channel, [sku], "locations")
    authorize(role, channel=channel)
    with ctx.reading() as uow:
        if uow.reservations.any_due(skus, ctx.clock.now()):  # as the lookup does
            uow.rollback()
            reservations.expire(ctx, skus)
        ruleset = ctx.rules.active(uow)
        known_channel(ruleset, channel)
        catalog = uow.catalog()
        transit = in_transit_to(uow, ruleset, skus, None)
        positions = [PositionStock(*r) for r in uow.positions.of_skus(skus, None)]
    present = {p.location_id for p in positions}
    positions += [PositionStock(destination, sku, 0, 0, 0)
                  for destination, of in sorted(transit.units)
                  if of == sku and destination not in present]
    ranked = sorted(((position_units(ruleset, catalog, p, channel,
                                     transit.of((p.location_id, sku)), transit.now), p)
                     for p in positions), key=lambda up: (-up[0], up[1].location_id))
    pages = max(1, -(-len(ranked) // per_page))
    number = min(max(number, 1), pages)
    start = (number - 1) * per_page
    rows = [explain_position(ruleset, catalog, p, channel, transit.of((p.location_id, sku)),
                             transit.now) | {"in_transit": transit.units.get((p.location_id,
                                                                                sku), 0)}
            for _units, p in ranked[start:start + per_page]]
    return {"channel": channel, "ruleset": ruleset.ref, "sku": sku,
            "available": sum(units for units, _p in ranked),
            "page": {"number": number, "pages": pages, "first": start + 1,
                     "count": len(ranked), "rows": rows}}
