"""The event catalogue: every outbox event type, its version and what it means.

Each type has a JSON Schema of its webhook body in schemas/events/<type>.schema.json:
`{"type", "version", "timestamp", "data"}`. A field added to `data` keeps the version; a
breaking change (a field removed, renamed or retyped) bumps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ORDER_PLACED = "order.placed"
ORDER_ALLOCATED = "order.allocated"
ORDER_BACKORDERED = "order.backordered"
ORDER_RELEASED = "order.released"
ORDER_EDITED = "order.edited"
ORDER_LINES_CANCELLED = "order.lines_cancelled"
ORDER_CANCELLED = "order.cancelled"
ORDER_STATUS_CHANGED = "order.status_changed"
FULFILMENT_REQUESTED = "fulfilment.requested"
FULFILMENT_REJECTED = "fulfilment.rejected"
FULFILMENT_REROUTED = "fulfilment.rerouted"
FULFILMENT_CANCELLED = "fulfilment.cancelled"
TRANSFER_CREATED = "transfer.created"
TRANSFER_SHIPPED = "transfer.shipped"
TRANSFER_RECEIVED = "transfer.received"
TRANSFER_CANCELLED = "transfer.cancelled"
TRANSFER_CLOSED = "transfer.closed"
RETURN_OPENED = "return.opened"
RETURN_RECEIVED = "return.received"
RETURN_DISPOSED = "return.disposed"
SETTLEMENT_EXPORTED = "settlement.exported"
# a location's report on its fulfilment, by the fulfilment's new status
FULFILMENT_STEPS = {step: f"fulfilment.{step}"
                    for step in ("accepted", "picked", "packed", "shipped", "delivered")}


@dataclass(frozen=True)
class EventType:
    """One type of the catalogue: its name, version, subject and a one-line description."""

    name: str
    version: int
    subject: str  # what `data` is about: order, fulfilment, transfer, return, settlement
    description: str


def _t(name: str, description: str, version: int = 1) -> EventType:
    return EventType(name, version, name.split(".")[0], description)


CATALOGUE: tuple[EventType, ...] = (
    _t(ORDER_PLACED, "An order was placed: its lines, channel, status and ruleset."),
    _t(ORDER_ALLOCATED, "Units of the order were allocated at locations (at placement, "
                        "re-route, backorder release or edit), one fulfilment per location."),
    _t(ORDER_BACKORDERED, "Units of the order wait for stock (at placement, re-route or edit)."),
    _t(ORDER_RELEASED, "Backordered units were planned once stock arrived."),
    _t(ORDER_EDITED, "The order was edited: quantities, lines or ship-to changed."),
    _t(ORDER_LINES_CANCELLED, "Some units of the order were cancelled; the order goes on."),
    _t(ORDER_CANCELLED, "The order is cancelled: no unit is left to ship."),
    _t(ORDER_STATUS_CHANGED, "The order's derived status changed (never sent for placing)."),
    _t(FULFILMENT_REQUESTED, "A location is asked to ship units of an order."),
    _t(FULFILMENT_STEPS["accepted"], "The location accepted its fulfilment."),
    _t(FULFILMENT_STEPS["picked"], "The location picked the fulfilment's units."),
    _t(FULFILMENT_STEPS["packed"], "The location packed the fulfilment's units."),
    _t(FULFILMENT_STEPS["shipped"], "The fulfilment shipped, with its tracking."),
    _t(FULFILMENT_STEPS["delivered"], "The fulfilment was delivered."),
    _t(FULFILMENT_REJECTED, "The location rejected some or all of the fulfilment's units."),
    _t(FULFILMENT_REROUTED, "Rejected units went to other locations (or wait, or were "
                            "cancelled)."),
    _t(FULFILMENT_CANCELLED, "The fulfilment has nothing left to ship: cancelled or moved."),
    _t(TRANSFER_CREATED, "A transfer was created; its units are allocated at the source."),
    _t(TRANSFER_SHIPPED, "The transfer left the source; its units are in transit."),
    _t(TRANSFER_RECEIVED, "Units of the transfer arrived at the destination."),
    _t(TRANSFER_CANCELLED, "The transfer was cancelled before it shipped."),
    _t(TRANSFER_CLOSED, "The transfer was closed; units never received are missing."),
    _t(RETURN_OPENED, "A return of shipped units was opened."),
    _t(RETURN_RECEIVED, "Returned units were received at a location, each with its "
                        "disposition."),
    _t(RETURN_DISPOSED, "Returned units were disposed of: restocked, discarded or sent back "
                        "to the vendor."),
    _t(SETTLEMENT_EXPORTED, "A settlement file was written for the ERP."),
)
BY_NAME: dict[str, EventType] = {t.name: t for t in CATALOGUE}


def event_type(name: str) -> EventType:
    """The catalogue's entry for this type (KeyError for a type it does not list)."""
    return BY_NAME[name]


def envelope(type_: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The webhook body of an event: type, its catalogue version, the time (UTC), data."""
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    stamp = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"type": type_, "version": event_type(type_).version, "timestamp": stamp,
            "data": data}
