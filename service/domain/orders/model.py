"""The parts of an order: its lines, its fulfilments, and the records a change leaves behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from service.errors import ValidationFailed, problem

from .status import OPEN_FULFILMENT, LineState


@dataclass
class OrderLine:
    """One line of the order: a SKU, how many, at what price; how many cancelled, backordered."""

    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal
    cancelled: int = 0
    backordered: int = 0
    id: int | None = None  # storage id, set by the repository (None for a new order)
    returned: int = 0  # units received back by returns (read from them, never stored here)

    @property
    def state(self) -> LineState:
        """The line's quantities as status derivation sees them."""
        return LineState(self.quantity, self.cancelled, self.backordered, self.returned)


@dataclass
class FulfilmentLine:
    """The units of one order line (named by its line_no) that one fulfilment ships."""

    line_no: int
    sku: str
    quantity: int
    shipped: int = 0
    rejected: int = 0
    cancelled: int = 0
    id: int | None = None  # storage id, set by the repository

    @property
    def open(self) -> int:
        """Units still to ship: neither shipped, rejected nor cancelled."""
        return self.quantity - self.shipped - self.rejected - self.cancelled


@dataclass
class Fulfilment:
    """One shipment from one location."""

    id: str
    location_id: str
    lines: list[FulfilmentLine]
    created_at: datetime
    updated_at: datetime
    status: str = "created"
    cost: float = 0.0
    factors: dict[str, Any] = field(default_factory=dict)
    tracking: str | None = None
    reason: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Not shipped, delivered, cancelled or rejected yet: its units are still allocated."""
        return self.status in OPEN_FULFILMENT

    def check_reported_at(self, at: datetime, as_sent: str | None) -> None:
        """Refuse a reported time (`as_sent`, None when the reporter sent none) before creation."""
        if as_sent is not None and at < self.created_at:
            raise ValidationFailed("at is before the fulfilment existed.", [problem(
                "/at", f"{as_sent} is before the fulfilment was created "
                       f"({self.created_at.isoformat()})")])


@dataclass(frozen=True)
class DomainEvent:
    """A change for subscribers to hear of: one outbox row."""

    aggregate_type: str
    aggregate_id: str
    type: str
    payload: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class Settlement:
    """Shipped or cancelled units of one line, for the ERP: one settlement_records row."""

    kind: str  # "shipped" | "cancelled"
    line_no: int
    sku: str
    quantity: int
    amount: Decimal
    at: datetime  # when it happened for the ERP: the cancel, or the shipment's report
    location_id: str | None = None


@dataclass(frozen=True)
class PlannedShipment:
    """What the planner decided for one location: the new fulfilment's id, cost and lines."""

    fulfilment_id: str
    location_id: str
    cost: float
    factors: dict[str, Any]
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)


def line_numbers(lines: list[OrderLine]) -> dict[str, int]:
    """Each SKU's line number (a SKU is on one line of an order)."""
    line_nos: dict[str, int] = {}
    for line in lines:
        if line.sku in line_nos:
            raise ValueError(f"{line.sku!r} is on lines {line_nos[line.sku]} and {line.line_no}")
        line_nos[line.sku] = line.line_no
    return line_nos


def new_fulfilment(shipment: PlannedShipment, line_nos: dict[str, int],
                   at: datetime) -> Fulfilment:
    """A planned shipment as a new fulfilment; its lines name the order lines they ship."""
    missing = [sku for sku, _q in shipment.lines if sku not in line_nos]
    if missing:
        raise ValueError(f"shipment {shipment.fulfilment_id} ships {missing}, not on the order")
    return Fulfilment(
        id=shipment.fulfilment_id, location_id=shipment.location_id,
        lines=[FulfilmentLine(line_nos[sku], sku, quantity) for sku, quantity in shipment.lines],
        created_at=at, updated_at=at, cost=float(shipment.cost), factors=dict(shipment.factors))
