"""What a cancel request takes from each line: all of it checked first, every problem named."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.errors import Conflict, ValidationFailed, problem

if TYPE_CHECKING:
    from .model import OrderLine
    from .order import Order


def cancel_targets(order: Order, wanted: list[dict[str, Any]] | None) -> dict[int, int]:
    """Units to cancel per line_no, in the order asked (no lines asked: all still cancellable)."""
    if not wanted:
        targets = {line.line_no: order.cancellable(line) for line in order.lines}
        if not any(targets.values()):
            raise Conflict("Nothing left to cancel: every line is shipped or cancelled.")
        return targets
    by_sku = {line.sku: line for line in order.lines}
    problems: list[dict[str, Any]] = []
    targets = {}
    for index, item in enumerate(wanted):
        line = by_sku.get(item["sku"])
        if line is None or line.line_no in targets:
            why = "is not on the order" if line is None else "is listed twice"
            problems.append(problem(f"/lines/{index}/sku", f"{item['sku']!r} {why}"))
            continue
        quantity, trouble = _asked(order, line, item)
        if trouble is not None:
            problems.append(problem(f"/lines/{index}/quantity", trouble))
        targets[line.line_no] = quantity
    if problems:
        raise ValidationFailed("Some lines cannot be cancelled as asked.", problems)
    return targets


def _asked(order: Order, line: OrderLine, item: dict[str, Any]) -> tuple[int, str | None]:
    """The units asked of one line (default: all still cancellable), and what is wrong."""
    free = order.cancellable(line)
    quantity = item.get("quantity", free)
    if "quantity" in item:  # the API's schema refuses these first, with the same words
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            return 0, f"{quantity!r} is not of type 'integer'"
        if quantity < 1:
            return quantity, f"{quantity} is less than the minimum of 1"
    if quantity > free or free == 0:
        return quantity, f"only {free} of {line.sku} can still be cancelled"
    return quantity, None
