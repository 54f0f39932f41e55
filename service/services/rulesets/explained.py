"""A published version as the console shows it: its text and each rule in words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.rules.explain import explain_ruleset
from service.services.rulesets import listing

if TYPE_CHECKING:
    from service.services.context import Context


def version(ctx: Context, role: Role, name: str, number: int) -> dict[str, Any]:
    """One version (as GET /v1/rulesets/{name}/{version}), its rules in words, and whether
    it is the active one."""
    shown = listing.show(ctx, role, name, number)
    with ctx.reading() as uow:
        ruleset = ctx.rules.get(uow, name, number)
        active = ctx.rules.active(uow)
    return {**shown, "description": ruleset.description, "active": active.ref,
            "is_active": active.ref == ruleset.ref, "explained": explain_ruleset(ruleset)}
