"""Opening a return for shipped units of an order (admin, or the order's channel).

Under the order's row lock (every writer of the order's returns takes it first), the units
already in returns, open or received, are counted: two returns racing for the last
returnable unit never both get it. An Idempotency-Key (per order) makes retries safe: the
same body again replays the first 201 body, another body is refused (422); two requests
racing with one key meet at the key's unique index and the loser replays the winner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.ids import new_id
from service.domain.returns import open_return
from service.domain.roles import Role
from service.errors import Conflict, IdempotencyMismatch, problem
from service.payloads import require
from service.services.orders.placing import request_hash
from service.services.orders.reading import visible_order
from service.services.returns.views import return_view
from service.store.errors import DuplicateRow, WriteConflict
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

ATTEMPTS = 3
Earlier = tuple[str | None, dict[str, Any]]


def open_for_order(ctx: Context, role: Role, order_id: str, body: dict[str, Any],
                   key: str | None) -> dict[str, Any]:
    """Open a return (201 body), or replay the one this key opened on the order."""
    require("return_request", body)
    fingerprint = request_hash(body)
    for _attempt in range(ATTEMPTS):
        try:
            with ctx.transaction() as uow:
                return _open_once(ctx, uow, role, order_id, body, key, fingerprint)
        except WriteConflict:  # a deadlock or serialization failure: nothing was written
            continue
        except DuplicateRow:  # the same key raced this request and won
            earlier = _opened_before(ctx, order_id, key)
            if earlier is None:
                raise
            return replay(earlier, fingerprint)
    raise Conflict(f"The return met concurrent writers {ATTEMPTS} times; nothing was "
                   "written: try again.")


def _open_once(ctx: Context, uow: UnitOfWork, role: Role, order_id: str, body: dict[str, Any],
               key: str | None, fingerprint: str) -> dict[str, Any]:
    order = visible_order(uow, role, order_id, lock=True)
    if key is not None:
        earlier = uow.returns.find_by_key(order.id, key)
        if earlier is not None:
            return replay(earlier, fingerprint)
    ret = open_return(order, body["lines"], uow.returns.in_returns(order.id), id=new_id(),
                      at=ctx.clock.now())
    response = return_view(ret)
    uow.returns.add(ret, str(role), key, fingerprint, response)
    return response


def _opened_before(ctx: Context, order_id: str, key: str | None) -> Earlier | None:
    if key is None:
        return None
    with ctx.reading() as uow:
        return uow.returns.find_by_key(order_id, key)


def replay(earlier: Earlier, fingerprint: str) -> dict[str, Any]:
    """The first answer again, marked a replay; another body with the key is a 422."""
    if earlier[0] != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request body; use a new key.",
            [problem("/headers/Idempotency-Key", "already used with another body")])
    return {**earlier[1], "idempotent_replay": True}
