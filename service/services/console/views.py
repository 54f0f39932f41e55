"""What the console's pages need beside the API's use cases: the channels a key may look
at, products found by SKU or name, and where locations are (for the sourcing map)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.errors import Forbidden
from service.services.masterdata import listing

if TYPE_CHECKING:
    from service.services.context import Context

FOUND = 20


def channels(ctx: Context, role: Role) -> list[dict[str, Any]]:
    """The active ruleset's channels this key may use, and what each sells."""
    with ctx.reading() as uow:
        ruleset = ctx.rules.active(uow)
    return [{"channel": name, "sells": list(ruleset.sells(name))}
            for name in sorted(ruleset.channels) if role.may_use_channel(name)]


def products(ctx: Context, role: Role, search: str | None) -> list[dict[str, Any]]:
    """Products whose SKU or name holds the text (admin and channel keys)."""
    if not (role.is_admin or role.kind == "channel"):
        raise Forbidden(f"A {role} key may not search products.")
    if not search:
        return []
    return listing.products(ctx, search[:64], None, FOUND)["items"]


def places(ctx: Context, location_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Name, type and coordinates of locations (the ones that exist)."""
    with ctx.reading() as uow:
        known = uow.catalog().locations
    return {i: {"id": i, "name": known[i].get("name"), "type": known[i].get("location_type"),
                "lat": known[i].get("lat"), "lon": known[i].get("lon")}
            for i in location_ids if i in known}
