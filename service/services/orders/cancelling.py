"""Cancelling an order, or some lines: the aggregate decides, its freed units go back at once."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from service.domain.orders import Units
from service.domain.roles import Role
from service.payloads import require
from service.services.inventory.stock_changes import change_positions
from service.services.orders.reading import visible_order
from service.services.orders.views import order_view
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def cancel(ctx: Context, role: Role, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Cancel what is asked (default: everything not shipped) and release its allocation."""
    require("cancel_request", body)
    with ctx.transaction() as uow:
        order = visible_order(uow, role, order_id, lock=True)
        uow.journal.because("cancel", order=order.id, reason=body.get("reason"))
        released = order.cancel(body.get("lines"), body.get("reason"), ctx.clock.now())
        release_allocation(ctx, uow, released)
        uow.orders.save(order)
        return order_view(order)


def release_allocation(ctx: Context, uow: UnitOfWork, released: Units) -> None:
    """Give units back to their locations' allocation (and the channels' ATS)."""
    wanted = {k: v for k, v in released.items() if v}
    if not wanted:
        return
    ids = uow.positions.ids_for(wanted)

    def giver(units: int):
        return lambda row: dataclasses.replace(row, allocated=max(0, row.allocated - units))

    change_positions(uow, ctx.rules.active(uow),
                     {ids[k]: giver(q) for k, q in wanted.items() if k in ids})
