"""Opening a return: only shipped units that are not in a return already, one line per SKU."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.domain import events as names
from service.domain.orders import Order
from service.errors import OverReturn, ValidationFailed, problem

from .model import Return, ReturnLine


def returnable(order: Order, in_returns: Mapping[int, int]) -> dict[str, tuple[int, int, int]]:
    """Per SKU of the order: (order line id, units shipped, units still returnable), where
    `in_returns` gives the units of each order line (by id) in returns, open or received."""
    out: dict[str, tuple[int, int, int]] = {}
    for line in order.lines:
        if line.id is None:
            continue
        shipped = sum(row.shipped for f in order.fulfilments for row in f.lines
                      if row.line_no == line.line_no)
        out[line.sku] = (line.id, shipped, shipped - in_returns.get(line.id, 0))
    return out


def open_return(order: Order, wanted: list[dict[str, Any]], in_returns: Mapping[int, int],
                *, id: str, at: datetime) -> Return:
    """A new return of these lines ({sku, quantity, reason?}), or a 422 naming each line whose
    SKU is not on the order (or repeated), then a 409 naming each line asking more than was
    shipped and is not in a return yet."""
    allowed = returnable(order, in_returns)
    problems, seen = [], set()
    for i, line in enumerate(wanted):
        if line["sku"] not in allowed:
            problems.append(problem(f"/lines/{i}/sku", f"{line['sku']!r} is not on the order"))
        elif line["sku"] in seen:
            problems.append(problem(f"/lines/{i}/sku", f"{line['sku']!r} is on an earlier "
                                    "line: one line per SKU"))
        seen.add(line["sku"])
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the return.", problems)
    over = [_over(i, line, *allowed[line["sku"]][1:]) for i, line in enumerate(wanted)
            if line["quantity"] > allowed[line["sku"]][2]]
    if over:
        raise OverReturn(f"{len(over)} line(s) ask more than can be returned; nothing was "
                         "written.", over)
    ret = Return(id=id, order_id=order.id, channel=order.channel, created_at=at, updated_at=at,
                 lines=[ReturnLine(ln["sku"], allowed[ln["sku"]][0], ln["quantity"],
                                   reason=ln.get("reason")) for ln in wanted])
    ret.emit(names.RETURN_OPENED, {
        "return_id": ret.id, "order_id": order.id, "channel": order.channel,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in ret.lines]}, at)
    return ret


def _over(index: int, line: dict[str, Any], shipped: int, left: int) -> dict[str, Any]:
    return problem(f"/lines/{index}/quantity",
                   f"{line['quantity']} asked, {max(left, 0)} returnable ({shipped} shipped, "
                   f"{shipped - left} already in returns)", sku=line["sku"],
                   returnable=max(left, 0))
