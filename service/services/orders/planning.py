"""A sourcing plan without an order (the dry run): what would ship from where, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role, authorize
from service.services.experiments import live
from service.services.orders import requests, sourcing
from service.services.rulesets.active import known_channel

if TYPE_CHECKING:
    from service.services.context import Context


def plan(ctx: Context, role: Role, body: dict[str, Any]) -> dict[str, Any]:
    """The plan placing this body would make now, with its explanation; nothing is written.
    A unit in a running experiment of the channel is planned by its variant's ruleset."""
    channel = body.get("channel")
    if isinstance(channel, str):
        authorize(role, channel=channel, action="plan for")
    with ctx.reading() as uow:
        catalog = uow.catalog()
        req = requests.parse(body, catalog, ctx.settings.section("sourcing")["max_order_lines"])
        choice = live.choose(ctx, uow, req.channel, unit_of(body))
        known_channel(choice.ruleset, req.channel)
        sourced = sourcing.source(ctx, uow, choice.ruleset, catalog, req)
    return sourcing.to_dict(sourced) | choice.names()


def unit_of(body: dict[str, Any]) -> str | None:
    """A plan's experiment unit: its `unit` field, else its customer_id."""
    unit = body.get("unit") or body.get("customer_id")
    return unit if isinstance(unit, str) else None
