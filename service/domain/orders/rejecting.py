"""Rejecting a fulfilment (all of it, or some units of some lines) and re-routing its units.

A location rejects what it cannot ship before it ships: the units leave its fulfilment as
`rejected` (its allocation is freed by the caller) and are re-sourced without any location
that already rejected their line. What no other location can ship waits as backordered, or
is cancelled, as the order's on_short says (a placed order is never refused afterwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.domain import events as names
from service.errors import Conflict, ValidationFailed, problem

from . import announcing as announce
from .model import DomainEvent, Fulfilment

if TYPE_CHECKING:
    from .order import Order

SLA_EXPIRED = "sla_expired"


def reject_targets(fulfilment: Fulfilment, wanted: list[dict[str, Any]] | None
                   ) -> dict[int, int]:
    """Units to reject per line_no (no lines named: every open unit); every problem named."""
    if not fulfilment.is_open:
        raise Conflict(f"Fulfilment {fulfilment.id} is {fulfilment.status}; only a fulfilment "
                       "not shipped yet can be rejected.", [problem(
                           "/type", f"a {fulfilment.status} fulfilment cannot be rejected")])
    if not wanted:
        targets = {row.line_no: row.open for row in fulfilment.lines if row.open > 0}
        if not targets:
            raise Conflict(f"Fulfilment {fulfilment.id} has nothing open to reject.",
                           [problem("/lines", "every unit is shipped, cancelled or rejected")])
        return targets
    rows = {row.sku: row for row in fulfilment.lines}
    problems: list[dict[str, Any]] = []
    targets = {}
    for index, item in enumerate(wanted):
        row = rows.get(item["sku"])
        if row is None or row.line_no in targets:
            why = "is not on this fulfilment" if row is None else "is listed twice"
            problems.append(problem(f"/lines/{index}/sku", f"{item['sku']!r} {why}"))
            continue
        quantity = item.get("quantity", row.open)
        if quantity > row.open or row.open == 0:
            problems.append(problem(f"/lines/{index}/quantity",
                                    f"only {row.open} of {row.sku} are open to reject"))
        targets[row.line_no] = quantity
    if problems:
        raise ValidationFailed("Some lines cannot be rejected as asked.", problems)
    return targets


def reject_units(fulfilment: Fulfilment, targets: Mapping[int, int], reason: str,
                 at: datetime) -> dict[str, int]:
    """Mark the units rejected (the fulfilment is `rejected` once nothing is open on it);
    the units freed by SKU."""
    freed: dict[str, int] = {}
    for row in fulfilment.lines:
        take = min(targets.get(row.line_no, 0), row.open)
        if take > 0:
            row.rejected += take
            freed[row.sku] = freed.get(row.sku, 0) + take
    if all(row.open <= 0 for row in fulfilment.lines):
        fulfilment.status = "rejected"
    fulfilment.reason, fulfilment.updated_at = reason, at
    return freed


def rejection_event(order: Order, fulfilment: Fulfilment, freed: Mapping[str, int],
                    at: datetime) -> DomainEvent:
    """The outbox event of a rejection: who, why, which units."""
    return announce.fulfilment_event(order, fulfilment, names.FULFILMENT_REJECTED, at,
                                     reason=fulfilment.reason,
                                     lines=announce.lines(freed.items()))


def reroute_event(order: Order, source: Fulfilment, new: list[Fulfilment],
                  backordered: Mapping[str, int], cancelled: Mapping[str, int],
                  at: datetime) -> DomainEvent:
    """The source's `fulfilment.rerouted`: where its rejected units went, or that they wait
    (backordered) or were cancelled."""
    return announce.fulfilment_event(
        order, source, names.FULFILMENT_REROUTED, at, reason=source.reason,
        to=[{"fulfilment_id": f.id, "location": f.location_id,
             "lines": announce.live_lines(f)} for f in new],
        backordered=announce.lines(sorted(backordered.items())),
        cancelled=announce.lines(sorted(cancelled.items())))


def rejected_by(fulfilments: list[Fulfilment], line_no: int) -> set[str]:
    """The locations that have rejected units of this order line."""
    return {f.location_id for f in fulfilments
            for row in f.lines if row.line_no == line_no and row.rejected > 0}


def shipments_left(fulfilments: list[Fulfilment], max_shipments: int) -> int:
    """How many shipments a re-route may add under the order's `max_shipments`: those not
    cancelled or rejected count (shipped ones too); at least one, or nothing could move."""
    live = sum(1 for f in fulfilments if f.status not in ("cancelled", "rejected"))
    return max(1, max_shipments - live)


def short_after_reroute(on_short: str, short: Mapping[str, int]
                        ) -> tuple[dict[str, int], dict[str, int]]:
    """(backordered, cancelled) units by SKU of what a re-route could not place: an order
    that backorders waits for stock; any other (reject, ship_available) cancels them."""
    units = {sku: q for sku, q in short.items() if q}
    return (units, {}) if on_short == "backorder" else ({}, units)
