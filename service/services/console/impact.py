"""A draft's whole impact: every channel's availability (rulesets.drafts.impact) and a
re-plan of the latest orders (orders.replay), both on the stock as it is now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.services.orders import replay
from service.services.rulesets import drafts

if TYPE_CHECKING:
    from service.services.context import Context


def impact(ctx: Context, role: Role, name: str, draft_id: int) -> dict[str, Any]:
    """Availability per channel, and sourcing replayed on the latest orders."""
    found = drafts.impact(ctx, role, name, draft_id)
    _draft, ruleset = drafts.loaded(ctx, name, draft_id)
    return {**found, "sourcing": replay.replay(ctx, ruleset)}
