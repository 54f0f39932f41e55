"""Editing a placed order: the wanted quantity of each listed SKU, and a new ship-to.

Only units not yet picked can move: a line's backordered units and its open units on
fulfilments still `created` or `accepted`. A wanted quantity below what is picked, packed or
shipped already is a conflict naming the line; an edit is checked whole before anything
changes (all or nothing). Units taken away are cancelled (backordered first, then the latest
fulfilments'), units added are planned by the caller and join the order through `grow`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from service.domain import events as names
from service.errors import Conflict, ValidationFailed, problem

from . import announcing as announce
from .model import (
    DomainEvent,
    Fulfilment,
    OrderLine,
    PlannedShipment,
    Settlement,
    line_numbers,
    new_fulfilment,
)

if TYPE_CHECKING:
    from .order import Order, Units

MOVABLE = ("created", "accepted")
EDIT_REASON = "edited"
MOVED_REASON = "ship_to changed"


@dataclass
class EditTargets:
    """What an edit asks: units to take from lines (by line_no), to add (by SKU), new lines."""

    taken: dict[int, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    new_lines: list[OrderLine] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


def movable(order: Order, line: OrderLine) -> int:
    """Units of a line an edit may move: backordered, and open on created/accepted fulfilments."""
    return line.backordered + sum(row.open for f in order.fulfilments if f.status in MOVABLE
                                  for row in f.lines if row.line_no == line.line_no)


def edit_targets(order: Order, wanted: list[dict[str, Any]]) -> EditTargets:
    """Check every listed line (422 for bad input, 409 for what cannot move), then the targets."""
    by_sku = {line.sku: line for line in order.lines}
    targets, bad, stuck, seen = EditTargets(), [], [], set()
    next_no = max((line.line_no for line in order.lines), default=0)
    for index, item in enumerate(wanted):
        sku, quantity = item["sku"], item["quantity"]
        line = by_sku.get(sku)
        if sku in seen:
            bad.append(problem(f"/lines/{index}/sku", f"{sku!r} is listed twice"))
            continue
        seen.add(sku)
        if line is None:
            if quantity == 0:
                bad.append(problem(f"/lines/{index}/quantity",
                                   f"{sku!r} is not on the order: 0 removes nothing"))
                continue
            next_no += 1
            targets.new_lines.append(OrderLine(next_no, sku, quantity,
                                               Decimal(str(item.get("unit_price", 0)))))
            targets.added[sku] = quantity
            targets.changes.append({"sku": sku, "from": 0, "to": quantity})
            continue
        now = line.quantity - line.cancelled
        fixed = now - movable(order, line)
        if quantity < fixed:
            stuck.append(problem(f"/lines/{index}/quantity",
                                 f"{fixed} units of {sku} already picked or shipped", sku=sku,
                                 fixed=fixed))
        elif quantity < now:
            targets.taken[line.line_no] = now - quantity
        elif quantity > now:
            targets.added[sku] = quantity - now
        if quantity != now:
            targets.changes.append({"sku": sku, "from": now, "to": quantity})
    if bad:
        raise ValidationFailed("Some lines cannot be edited as asked.", bad)
    if stuck:
        raise Conflict("Some units have been picked already: the edit is refused whole.", stuck)
    return targets


def take_back(order: Order, taken: dict[int, int], at: datetime) -> Units:
    """Cancel each line's units taken by an edit (backordered first, then the latest movable
    fulfilments'); the units freed by (location, sku)."""
    freed: Units = {}
    latest_first = sorted(order.fulfilments, key=lambda f: (f.created_at, f.id), reverse=True)
    for line in order.lines:
        left = taken.get(line.line_no, 0)
        if not left:
            continue
        from_backorder = min(left, line.backordered)
        line.backordered -= from_backorder
        left -= from_backorder
        for f in (f for f in latest_first if f.status in MOVABLE):
            for row in (r for r in f.lines if r.line_no == line.line_no and left):
                take = min(left, row.open)
                row.cancelled, left = row.cancelled + take, left - take
                key = (f.location_id, row.sku)
                freed[key] = freed.get(key, 0) + take
        line.cancelled += taken[line.line_no]
        order.settlements.append(Settlement(
            "cancelled", line.line_no, line.sku, taken[line.line_no],
            Decimal(line.unit_price) * taken[line.line_no], at))
    for f in order.fulfilments:
        if f.status in MOVABLE and all(row.open <= 0 for row in f.lines):
            f.status, f.updated_at, f.reason = "cancelled", at, EDIT_REASON
            order.events.append(fulfilment_cancelled(order, f, at))
    return {key: units for key, units in freed.items() if units}


def grow(order: Order, targets: EditTargets, shipments: list[PlannedShipment],
         backordered: dict[str, int], at: datetime) -> None:
    """Add an edit's units: new lines, more on existing ones, the fulfilments planned for
    them and what waits as backordered."""
    new = {id(line) for line in targets.new_lines}
    order.lines.extend(line for line in targets.new_lines
                       if not any(line is known for known in order.lines))
    for line in order.lines:
        if line.sku in targets.added and id(line) not in new:
            line.quantity += targets.added[line.sku]
        line.backordered += backordered.get(line.sku, 0)
    fulfilments = [new_fulfilment(s, line_numbers(order.lines), at) for s in shipments]
    order.fulfilments.extend(fulfilments)
    order.events += announce.requested(order, fulfilments, announce.EDITED, at)
    order.events += announce.backordered(order, backordered, announce.EDITED, at)


def fulfilment_cancelled(order: Order, fulfilment: Fulfilment, at: datetime) -> DomainEvent:
    """An edit took every unit the fulfilment had left: its location hears why."""
    return announce.fulfilment_event(
        order, fulfilment, names.FULFILMENT_CANCELLED, at, reason=fulfilment.reason,
        lines=announce.lines((row.sku, row.cancelled) for row in fulfilment.lines))


def move_units(order: Order, shipments: list[PlannedShipment], backordered: dict[str, int],
               at: datetime) -> None:
    """The unpicked units leave their fulfilments (cancelled, reason `ship_to changed`) for
    the planned ones; what no location ships waits as backordered."""
    for f in order.fulfilments:
        if f.status in MOVABLE and any(row.open > 0 for row in f.lines):
            for row in f.lines:
                row.cancelled += max(row.open, 0)
            f.status, f.updated_at, f.reason = "cancelled", at, MOVED_REASON
            order.events.append(fulfilment_cancelled(order, f, at))
    grow(order, EditTargets(), shipments, backordered, at)
