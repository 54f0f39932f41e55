"""Cancelling an order, or some of its lines: allocation released at once, events written."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from service.context import Context
from service.domain.orders import OPEN_FULFILMENT, LineState, derive_status
from service.domain.roles import Role
from service.errors import Conflict, NotFound, ValidationFailed, problem
from service.services import events, payloads
from service.services.holds import change_positions, position_ids
from service.services.orders import to_dict
from service.store import orders_repo
from service.store.models import FulfilmentLine, OrderLine, SettlementRecord


def cancel(ctx: Context, role: Role, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Cancel what is asked (default: everything not shipped) and release its allocation."""
    payloads.require("cancel_request", body)
    with ctx.sessions.begin() as session:
        aggregate = orders_repo.load(session, order_id, lock=True)
        if aggregate is None or not role.may_use_channel(aggregate.order.channel):
            raise NotFound(f"No order {order_id!r}.")
        targets = _targets(aggregate, body.get("lines"))
        released = _cancel_lines(session, aggregate, targets)
        _release(ctx, session, released)
        _finish(session, aggregate, targets, body.get("reason"))
        return to_dict(orders_repo.load(session, order_id))


def _cancellable(aggregate: orders_repo.OrderAggregate, line: OrderLine) -> int:
    open_units = sum(r.open_units
                     for f in aggregate.fulfilments if f.status in OPEN_FULFILMENT
                     for r in aggregate.fulfilment_lines[f.id] if r.order_line_id == line.id)
    return open_units + line.quantity_backordered


def _targets(aggregate: orders_repo.OrderAggregate, wanted: list[dict] | None
             ) -> dict[int, int]:
    by_sku = {line.sku: line for line in aggregate.lines}
    if not wanted:
        targets = {line.id: _cancellable(aggregate, line) for line in aggregate.lines}
        if not any(targets.values()):
            raise Conflict("Nothing left to cancel: every line is shipped or cancelled.")
        return targets
    problems, targets = [], {}
    for index, item in enumerate(wanted):
        line = by_sku.get(item["sku"])
        if line is not None and line.id in targets:
            problems.append(problem(f"/lines/{index}/sku", f"{item['sku']!r} is listed twice"))
            continue
        if line is None:
            problems.append(problem(f"/lines/{index}/sku", f"{item['sku']!r} is not on the order"))
            continue
        free = _cancellable(aggregate, line)
        quantity = item.get("quantity", free)
        if quantity > free or free == 0:
            problems.append(problem(f"/lines/{index}/quantity",
                                    f"only {free} of {item['sku']} can still be cancelled"))
        targets[line.id] = quantity
    if problems:
        raise ValidationFailed("Some lines cannot be cancelled as asked.", problems)
    return targets


def _cancel_lines(session: Session, aggregate: orders_repo.OrderAggregate,
                  targets: dict[int, int]) -> dict[tuple[str, str], int]:
    released: dict[tuple[str, str], int] = {}
    for line in aggregate.lines:
        left = targets.get(line.id, 0)
        from_backorder = min(left, line.quantity_backordered)
        line.quantity_backordered -= from_backorder
        left -= from_backorder
        for fulfilment in reversed(aggregate.fulfilments):
            if left == 0 or fulfilment.status not in OPEN_FULFILMENT:
                continue
            for row in aggregate.fulfilment_lines[fulfilment.id]:
                if row.order_line_id != line.id or left == 0:
                    continue
                take = min(left, row.open_units)
                row.quantity_cancelled += take
                left -= take
                key = (fulfilment.location_id, row.sku)
                released[key] = released.get(key, 0) + take
        line.quantity_cancelled += targets.get(line.id, 0)
    return released


def _release(ctx: Context, session: Session, released: dict[tuple[str, str], int]) -> None:
    wanted = {k: v for k, v in released.items() if v}
    if not wanted:
        return
    ids = position_ids(session, wanted)

    def giver(units: int):
        return lambda row: dataclasses.replace(row, allocated=max(0, row.allocated - units))

    change_positions(ctx, session, ctx.rules.active(session),
                     {ids[k]: giver(q) for k, q in wanted.items() if k in ids})


def _finish(session: Session, aggregate: orders_repo.OrderAggregate, targets: dict[int, int],
            reason: str | None) -> None:
    order = aggregate.order
    for fulfilment in aggregate.fulfilments:
        rows = aggregate.fulfilment_lines[fulfilment.id]
        if fulfilment.status in OPEN_FULFILMENT and all(_closed(r) for r in rows):
            fulfilment.status = "cancelled"
            events.emit(session, "fulfilment", fulfilment.id, "fulfilment.cancelled",
                        {"order_id": order.id, "location": fulfilment.location_id,
                         "reason": reason})
    for line in aggregate.lines:
        if targets.get(line.id):
            session.add(SettlementRecord(kind="cancelled", order_id=order.id,
                                         order_line_id=line.id, sku=line.sku,
                                         quantity=targets[line.id],
                                         amount=Decimal(line.unit_price) * targets[line.id]))
    order.status = derive_status(
        [LineState(ln.quantity, ln.quantity_cancelled, ln.quantity_backordered)
         for ln in aggregate.lines], [f.status for f in aggregate.fulfilments])
    events.emit(session, "order", order.id,
                "order.cancelled" if order.status == "cancelled" else "order.lines_cancelled",
                {"status": order.status, "reason": reason,
                 "lines": [{"line_id": k, "quantity": v} for k, v in targets.items() if v]})


def _closed(row: FulfilmentLine) -> bool:
    return row.open_units <= 0
