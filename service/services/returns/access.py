"""Who may see a return, and which locations take returns.

A channel key sees its channel's returns; a location key sees the returns it received some
of, and the returns still open if its location takes returns (it may receive them); admins
see every return. Anything else is a 404, as for orders and fulfilments.
"""

from __future__ import annotations

from typing import Any

from service.domain.returns import RECEIVED, Return, takes_returns
from service.domain.roles import Role, authorize
from service.errors import NotFound, ValidationFailed, problem
from service.store.catalog import CatalogSnapshot
from service.store.unit_of_work import UnitOfWork


def visible_return(uow: UnitOfWork, role: Role, return_id: str, lock: bool = False) -> Return:
    """The return, if this key may see it; else 404."""
    ret = uow.returns.get(return_id, lock=lock)
    unseen = f"No return {return_id!r}."
    if ret is None:
        raise NotFound(unseen)
    if role.kind == "location" and role.scope is not None:
        if not _location_sees(uow, role.scope, ret):
            raise NotFound(unseen)
        return ret
    authorize(role, channel=ret.channel, unseen=unseen)
    return ret


def _location_sees(uow: UnitOfWork, location: str, ret: Return) -> bool:
    if ret.status != RECEIVED and takes_returns(uow.catalog().locations.get(location)):
        return True
    return uow.returns.received_at(ret.id, location)


def receiving_location(catalog: CatalogSnapshot, location: str) -> dict[str, Any]:
    """The location's facts, or a 422 at /location: unknown, or not one that takes returns."""
    facts = catalog.locations.get(location)
    if facts is None:
        raise ValidationFailed("The receipt names an unknown location.", [problem(
            "/location", f"unknown location {location!r}")])
    if not takes_returns(facts):
        raise ValidationFailed(f"Location {location!r} does not take returns.", [problem(
            "/location", f"{location!r} is a {facts['location_type']}"
            f"{'' if facts['active'] else ' (inactive)'}: returns are received at active "
            "stores and DCs")])
    return facts
