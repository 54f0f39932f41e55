"""Builders for order tests: orders placed at fixed times, then 'loaded' as a repository would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from service.domain.orders import Fulfilment, FulfilmentLine, Order, OrderLine, PlannedShipment

PLACED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LATER = PLACED + timedelta(hours=2)
NOW = PLACED + timedelta(hours=3)


def line(line_no: int, sku: str, quantity: int, price: str = "10.00") -> OrderLine:
    """A requested order line."""
    return OrderLine(line_no, sku, quantity, Decimal(price))


def shipment(fulfilment_id: str, location_id: str, *lines: tuple[str, int],
             cost: float = 1.5) -> PlannedShipment:
    """A planner's shipment of (sku, quantity) lines from one location."""
    return PlannedShipment(fulfilment_id, location_id, cost, {"distance_km": 12.0}, lines)


def place(lines: list[OrderLine], shipments: list[PlannedShipment],
          backordered: dict[str, int] | None = None) -> Order:
    """A new order placed at PLACED, as the service places it."""
    return Order.place(id="o-1", channel="web", lines=lines, shipments=shipments,
                       backordered=backordered or {}, at=PLACED, ruleset="default@3")


def loaded(order: Order) -> Order:
    """The order as the repository hands it back: storage ids set, nothing new recorded."""
    for line_ in order.lines:
        line_.id = 100 + line_.line_no
    for index, row in enumerate(r for f in order.fulfilments for r in f.lines):
        row.id = 500 + index
    order.events.clear()
    order.settlements.clear()
    return order


def placed(lines: list[OrderLine], shipments: list[PlannedShipment],
           backordered: dict[str, int] | None = None) -> Order:
    """An order placed earlier and loaded again."""
    return loaded(place(lines, shipments, backordered))


def resourced(order: Order, fulfilment_id: str, location_id: str,
              *lines: tuple[str, int]) -> Fulfilment:
    """A fulfilment added to the order LATER (a re-sourcing), returned after adding it."""
    line_nos = {ln.sku: ln.line_no for ln in order.lines}
    fulfilment = Fulfilment(fulfilment_id, location_id,
                            [FulfilmentLine(line_nos[sku], sku, q) for sku, q in lines],
                            created_at=LATER, updated_at=LATER)
    order.fulfilments.append(fulfilment)
    return fulfilment


def event_types(order: Order) -> list[str]:
    """The types of the events the order recorded since it was loaded."""
    return [event.type for event in order.events]


def payload_of(order: Order, type_: str) -> dict:
    """The data of the last event of this type the order recorded since it was loaded."""
    return next(e.payload for e in reversed(order.events) if e.type == type_)
