"""A sourcing plan without an order (the dry run): what would ship from where, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role, authorize
from service.services.orders import requests, sourcing
from service.services.rulesets.active import known_channel

if TYPE_CHECKING:
    from service.services.context import Context


def plan(ctx: Context, role: Role, body: dict[str, Any]) -> dict[str, Any]:
    """The plan placing this body would make now, with its explanation; nothing is written."""
    channel = body.get("channel")
    if isinstance(channel, str):
        authorize(role, channel=channel, action="plan for")
    with ctx.reading() as uow:
        ruleset = ctx.rules.active(uow)
        catalog = uow.catalog()
        req = requests.parse(body, catalog, ctx.settings.section("sourcing")["max_order_lines"])
        known_channel(ruleset, req.channel)
        sourced = sourcing.source(ctx, uow, ruleset, catalog, req)
    return sourcing.to_dict(sourced)
