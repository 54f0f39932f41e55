"""Receiving a return at a location: partial receipts, each line's disposition decided by the
active ruleset's `returns` rules, restocked units back in that location's stock at once.

One transaction under the order's row lock, then the return's: the receipt is checked whole
(a SKU not on the return, more than a line has open: nothing is written), each line's
disposition is decided (`dispositions.py`) and recorded with its rule and the ruleset's
name@version; `restock` units join the location's on-hand through `stock_changes` (the
channels' ATS moves in the same transaction, which wakes orders waiting for the SKU), a
vendor return names the product's vendor. Each received line is a `returned` settlement
record (the order line's unit price times the units); the return's and the order's status
follow from the units received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.ids import new_id
from service.domain.orders import Order
from service.domain.returns import (
    Receipt,
    ReceivedLine,
    Return,
    checked_receipt,
    receive,
    record_returned,
)
from service.domain.returns.receiving import received_line
from service.domain.roles import Role, authorize
from service.errors import Conflict, NotFound
from service.payloads import require
from service.services.inventory.stock_changes import receive_units
from service.services.orders.placing import request_hash
from service.services.returns.access import receiving_location, visible_return
from service.services.returns.dispositions import decide
from service.services.returns.opening import replay
from service.services.returns.views import return_view
from service.store.errors import WriteConflict
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

ATTEMPTS = 3


def receive_return(ctx: Context, role: Role, return_id: str, body: dict[str, Any],
                   key: str | None = None) -> dict[str, Any]:
    """Receive some or all of a return's units at `body.location`; the return after it. An
    Idempotency-Key (per return) replays the first answer to the same body (another body
    with it is a 422): a scanner's retry never receives the units twice."""
    require("return_receipt", body)
    authorize(role, location=body["location"], action="receive returns at")
    fingerprint = request_hash(body)
    for _attempt in range(ATTEMPTS):
        try:
            with ctx.transaction() as uow:
                return _receive_once(ctx, uow, role, return_id, body, (key, fingerprint))
        except WriteConflict:  # a deadlock or serialization failure: nothing was written
            continue
    raise Conflict(f"The receipt met concurrent writers {ATTEMPTS} times; nothing was "
                   "written: try again.")


def _receive_once(ctx: Context, uow: UnitOfWork, role: Role, return_id: str,
                  body: dict[str, Any], request: tuple[str | None, str]) -> dict[str, Any]:
    location, (key, fingerprint) = body["location"], request
    receiving_location(uow.catalog(), location)
    found = visible_return(uow, role, return_id)
    order = uow.orders.get(found.order_id, lock=True)  # every writer of its returns locks it
    ret = uow.returns.get(return_id, lock=True)
    if order is None or ret is None:
        raise NotFound(f"No return {return_id!r}.")
    earlier = uow.returns.find_receipt_by_key(ret.id, key) if key is not None else None
    if earlier is not None:
        return replay(earlier, fingerprint)
    checked_receipt(ret, body["lines"])
    now, ruleset = ctx.clock.now(), ctx.rules.active(uow)
    lines = _decided(ctx, uow, order, ret, body)
    record_returned(order, receive(ret, Receipt(new_id(), location, ruleset.ref, str(role), now,
                                                lines)), now)
    restock = _restocked(location, lines)
    if restock:
        uow.journal.because("return", order=order.id, return_id=ret.id, location=location)
        receive_units(uow, ruleset, restock, now)
    response = return_view(ret)
    uow.returns.save(ret, key, fingerprint, response)  # its events before the order's
    uow.orders.save(order)
    return response


def _decided(ctx: Context, uow: UnitOfWork, order: Order, ret: Return, body: dict[str, Any]
             ) -> list[ReceivedLine]:
    """Each receipt line with its disposition, the rule that decided it, refund and vendor."""
    now, ruleset = ctx.clock.now(), ctx.rules.active(uow)
    prices = {line.id: line.unit_price for line in order.lines}
    order_lines = {line.sku: line.order_line_id for line in ret.lines}
    vendors = uow.returns.vendors(line["sku"] for line in body["lines"])
    lines = []
    for line in body["lines"]:
        outcome = decide(ruleset, uow.catalog(), order, body["location"], line, now)
        lines.append(received_line(line, outcome.disposition, outcome.rule,
                                   prices[order_lines[line["sku"]]], vendors.get(line["sku"])))
    return lines


def _restocked(location: str, lines: list[ReceivedLine]) -> dict[tuple[str, str], int]:
    units: dict[tuple[str, str], int] = {}
    for line in lines:
        if line.disposition == "restock":
            units[(location, line.sku)] = units.get((location, line.sku), 0) + line.quantity
    return units


def read(ctx: Context, role: Role, return_id: str) -> dict[str, Any]:
    """A return as it is now, to the keys that may see it (else 404)."""
    with ctx.reading() as uow:
        return return_view(visible_return(uow, role, return_id))
