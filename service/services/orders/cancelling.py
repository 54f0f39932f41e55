"""Reading and cancelling an order: the aggregate decides, its freed units go back at once."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from service.domain.orders import Order, Units
from service.domain.roles import Role, authorize
from service.errors import NotFound
from service.payloads import require
from service.services.inventory.stock_changes import change_positions
from service.services.orders.views import order_view
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def read(ctx: Context, role: Role, order_id: str) -> dict[str, Any]:
    """An order as it is now, with its plan and explanation."""
    with ctx.reading() as uow:
        order = visible_order(uow, role, order_id)
    return order_view(order) | {"plan": order.plan, "explanation": order.explanation}


def cancel(ctx: Context, role: Role, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Cancel what is asked (default: everything not shipped) and release its allocation."""
    require("cancel_request", body)
    with ctx.transaction() as uow:
        order = visible_order(uow, role, order_id, lock=True)
        released = order.cancel(body.get("lines"), body.get("reason"), ctx.clock.now())
        release_allocation(ctx, uow, released)
        uow.orders.save(order)
        return order_view(order)


def visible_order(uow: UnitOfWork, role: Role, order_id: str, lock: bool = False) -> Order:
    """The order, if this key may see it (its channel's, or any for admin); else 404."""
    order = uow.orders.get(order_id, lock=lock)
    unseen = f"No order {order_id!r}."
    if order is None:
        raise NotFound(unseen)
    authorize(role, channel=order.channel, unseen=unseen)
    return order


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
