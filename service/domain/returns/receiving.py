"""Receiving a return at a location: never more than a line has open; what arrives is
recorded with its disposition, and the order learns of the units back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.domain import events as names
from service.domain.orders import Order
from service.domain.orders.announcing import status_changed
from service.errors import OverReceipt, ValidationFailed, problem

from .model import Receipt, ReceivedLine, Return, ReturnLine


def checked_receipt(ret: Return, wanted: list[dict[str, Any]]) -> list[ReturnLine]:
    """The return line each receipt line receives (a SKU may come in several conditions),
    or a 422 naming each SKU not on the return, then a 409 naming each line that takes the
    units received past what its return line has open."""
    by_sku = {line.sku: line for line in ret.lines}
    problems = [problem(f"/lines/{i}/sku", f"{line['sku']!r} is not on return {ret.id}")
                for i, line in enumerate(wanted) if line["sku"] not in by_sku]
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the receipt.", problems)
    taken: dict[str, int] = {}
    over, lines = [], []
    for i, line in enumerate(wanted):
        target = by_sku[line["sku"]]
        taken[target.sku] = taken.get(target.sku, 0) + line["quantity"]
        if taken[target.sku] > target.open:
            over.append(problem(f"/lines/{i}/quantity",
                                f"{taken[target.sku]} received in all, {target.open} open "
                                f"({target.quantity} opened, {target.received} received)",
                                sku=target.sku, open=target.open))
        lines.append(target)
    if over:
        raise OverReceipt(f"{len(over)} line(s) receive more than the return has open; "
                          "nothing was written.", over)
    return lines


def receive(ret: Return, receipt: Receipt) -> dict[int, int]:
    """Add a checked receipt: lines count their units, the events say what arrived and what
    each line's disposition is; the units received per order line id."""
    at, per_order_line = receipt.received_at, {}
    by_sku = {line.sku: line for line in ret.lines}
    for received in receipt.lines:
        line = by_sku[received.sku]
        line.received += received.quantity
        per_order_line[line.order_line_id] = (per_order_line.get(line.order_line_id, 0)
                                              + received.quantity)
    ret.receipts.append(receipt)
    ret.updated_at = at
    ret.emit(names.RETURN_RECEIVED, {
        "return_id": ret.id, "order_id": ret.order_id, "channel": ret.channel,
        "location": receipt.location_id,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity, "condition": ln.condition,
                   "reason": ln.reason, "disposition": ln.disposition, "rule": ln.rule}
                  for ln in receipt.lines]}, at)
    for ln in receipt.lines:
        ret.emit(names.RETURN_DISPOSED, {
            "return_id": ret.id, "order_id": ret.order_id, "location": receipt.location_id,
            "sku": ln.sku, "quantity": ln.quantity, "disposition": ln.disposition,
            "rule": ln.rule, "ruleset": receipt.ruleset, "vendor": ln.vendor}, at)
    return per_order_line


def record_returned(order: Order, units: Mapping[int, int], at: datetime) -> None:
    """The order's lines count units received back (by line id); a changed status is an
    `order.status_changed` event, as every status change is."""
    before = order.status
    for line in order.lines:
        line.returned += units.get(line.id or 0, 0)
    if order.status != before:
        order.updated_at = at
    order.events += status_changed(order, at)


def received_line(line: dict[str, Any], disposition: str, rule: str | None,
                  unit_price: Any, vendor: str | None) -> ReceivedLine:
    """A receipt line as received, with what was decided for it."""
    return ReceivedLine(line["sku"], line["quantity"], line["condition"], line["reason"],
                        disposition, rule, unit_price * line["quantity"],
                        vendor if disposition == "return_to_vendor" else None)
