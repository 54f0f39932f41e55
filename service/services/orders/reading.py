"""Reading an order: the aggregate as the API shows it, to the keys that may see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.orders import Order
from service.domain.roles import Role, authorize
from service.errors import NotFound
from service.services.orders.views import order_view
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context


def read(ctx: Context, role: Role, order_id: str) -> dict[str, Any]:
    """An order as it is now, with its plan and explanation."""
    with ctx.reading() as uow:
        order = visible_order(uow, role, order_id)
    return order_view(order) | {"plan": order.plan, "explanation": order.explanation}


def visible_order(uow: UnitOfWork, role: Role, order_id: str, lock: bool = False) -> Order:
    """The order, if this key may see it (its channel's, or any for admin); else 404."""
    order = uow.orders.get(order_id, lock=lock)
    unseen = f"No order {order_id!r}."
    if order is None:
        raise NotFound(unseen)
    authorize(role, channel=order.channel, unseen=unseen)
    return order
