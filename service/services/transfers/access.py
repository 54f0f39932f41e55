"""Who may see and move a transfer: admins, and the keys of its two locations."""

from __future__ import annotations

from service.domain.roles import Role, authorize
from service.domain.transfers import Transfer
from service.errors import Forbidden, NotFound
from service.store.unit_of_work import UnitOfWork


def refuse_channels(role: Role) -> None:
    """Channel keys may not use transfers (403): they sell stock, they do not move it."""
    if role.kind == "channel":
        raise Forbidden(f"A {role} key may not use transfers; use an admin or a location key.")


def visible_transfer(uow: UnitOfWork, role: Role, transfer_id: str,
                     lock: bool = False) -> Transfer:
    """The transfer, if this key may see it (from or to its location, or any for admin);
    else 404 (a key never learns of another location's transfers)."""
    refuse_channels(role)
    transfer = uow.transfers.get(transfer_id, lock=lock)
    unseen = f"No transfer {transfer_id!r}."
    if transfer is None:
        raise NotFound(unseen)
    if not role.may_use_location(transfer.source):
        authorize(role, location=transfer.destination, unseen=unseen)
    return transfer


def authorize_side(role: Role, transfer: Transfer, side: str, action: str) -> None:
    """Only the transfer's source (side 'from') or destination ('to') may do this (403)."""
    location = transfer.source if side == "from" else transfer.destination
    authorize(role, location=location, action=action)
