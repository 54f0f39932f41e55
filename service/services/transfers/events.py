"""What a transfer's locations report: the source ships (or cancels), the destination
receives (partly, in several receipts) and closes. Each is one transaction: the transfer's row
is locked first, then the positions it moves, so two receipts at once add up exactly."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.errors import Conflict, ValidationFailed, problem
from service.payloads import require
from service.services.orders.cancelling import release_allocation
from service.services.transfers.access import authorize_side, visible_transfer
from service.services.transfers.arrivals import expected_at, refresh_skus
from service.services.transfers.stock import receive_at_destination, ship_from_source
from service.services.transfers.views import transfer_view
from service.store.errors import WriteConflict
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

SIDE = {"shipped": "from", "received": "to", "closed": "to"}
ATTEMPTS = 3


def report(ctx: Context, role: Role, transfer_id: str, body: dict[str, Any]
           ) -> dict[str, Any]:
    """Apply a location's event (shipped, received, closed) to its transfer."""
    require("transfer_event", body)
    kind = body["type"]
    extra = [problem(f"/{k}", f"only a received event has {k}")
             for k in ("lines", "discrepancy") if k in body and kind != "received"]
    if "expected_at" in body and kind != "shipped":
        extra.append(problem("/expected_at", "only a shipped event has expected_at"))
    if kind == "received" and "lines" not in body:
        extra.append(problem("/lines", "a received event lists the units received"))
    if extra:
        raise ValidationFailed(f"The {kind} event is not valid.", extra)
    arrival = expected_at(body)
    for _attempt in range(ATTEMPTS):
        try:
            with ctx.transaction() as uow:
                return _apply(ctx, uow, role, transfer_id, body, arrival)
        except WriteConflict:  # a deadlock or serialization failure: nothing was written
            continue
    raise Conflict(f"The {kind} event met concurrent writers {ATTEMPTS} times; nothing was "
                   "written: try again.")


def _apply(ctx: Context, uow: UnitOfWork, role: Role, transfer_id: str, body: dict[str, Any],
           arrival: datetime | None) -> dict[str, Any]:
    kind = body["type"]
    transfer = visible_transfer(uow, role, transfer_id, lock=True)
    authorize_side(role, transfer, SIDE[kind], f"report {kind} on transfers of")
    now = ctx.clock.now()
    uow.journal.because("transfer", transfer=transfer.id, event=kind)
    if kind == "shipped":
        if arrival is not None:
            transfer.expected_at = arrival
        uow.positions.ensure((transfer.destination, ln.sku) for ln in transfer.lines)
        ship_from_source(ctx, uow, transfer.ship(now, body.get("tracking")), now)
    elif kind == "received":
        units = transfer.receive(body["lines"], now, bool(body.get("discrepancy")))
        receive_at_destination(ctx, uow, units, now)
    else:
        transfer.close(now, body.get("reason"))
    uow.transfers.save(transfer)
    if transfer.expected_at is not None:  # (units of an unknown arrival are never counted)
        refresh_skus(ctx, uow, [ln.sku for ln in transfer.lines])  # units in transit moved
    return transfer_view(transfer)


def cancel(ctx: Context, role: Role, transfer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Cancel a transfer that has not shipped: its allocation at the source is released."""
    require("transfer_cancel", body)
    with ctx.transaction() as uow:
        transfer = visible_transfer(uow, role, transfer_id, lock=True)
        authorize_side(role, transfer, "from", "cancel transfers from")
        uow.journal.because("transfer", transfer=transfer.id, event="cancelled")
        release_allocation(ctx, uow, transfer.cancel(ctx.clock.now(), body.get("reason")))
        uow.transfers.save(transfer)
        return transfer_view(transfer)


def read(ctx: Context, role: Role, transfer_id: str) -> dict[str, Any]:
    """A transfer as it is now."""
    with ctx.reading() as uow:
        return transfer_view(visible_transfer(uow, role, transfer_id))
