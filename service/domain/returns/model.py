"""A return (RMA): shipped units a customer sends back, its lines, and what each receipt decided."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from service.domain.orders import DomainEvent

STATUSES = ("opened", "partially_received", "received")
RECEIVED = "received"
RETURN_LOCATION_TYPES = ("store", "dc")  # where customers' returns are received


def takes_returns(location: Mapping[str, Any] | None) -> bool:
    """Whether a location (its facts: location_type, active) receives returns: active stores
    and DCs do; drop-shippers and 3PLs ship only."""
    return bool(location and location.get("active")
                and location.get("location_type") in RETURN_LOCATION_TYPES)


@dataclass
class ReturnLine:
    """Units of one order line the customer sends back, and how many arrived so far."""

    sku: str
    order_line_id: int
    quantity: int
    received: int = 0
    reason: str | None = None
    id: int | None = None  # storage id, set by the repository

    @property
    def open(self) -> int:
        """Units not received yet."""
        return self.quantity - self.received


@dataclass(frozen=True)
class ReceivedLine:
    """Units of one return line received in one condition, and what the rules decided."""

    sku: str
    quantity: int
    condition: str
    reason: str
    disposition: str
    rule: str | None  # the returns rule that decided; None: the default disposition
    refund: Decimal  # the order line's unit price times the quantity
    vendor: str | None = None  # who takes a vendor return back (the product's vendor)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (the refund as a number)."""
        return {"sku": self.sku, "quantity": self.quantity, "condition": self.condition,
                "reason": self.reason, "disposition": self.disposition, "rule": self.rule,
                "vendor": self.vendor, "refund": float(self.refund)}


@dataclass
class Receipt:
    """Some of a return's units received at one location at one time."""

    id: str
    location_id: str
    ruleset: str  # name@version of the ruleset that decided the dispositions
    received_by: str  # the role of the key that reported it
    received_at: datetime
    lines: list[ReceivedLine]
    stored: bool = False  # written already (the repository writes only new receipts)


@dataclass
class Return:
    """A return of some shipped units of one order; its status is derived from its lines."""

    id: str
    order_id: str
    channel: str
    lines: list[ReturnLine]
    created_at: datetime
    updated_at: datetime
    receipts: list[Receipt] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)  # new since loaded or created

    @property
    def status(self) -> str:
        """opened, partially_received or received."""
        return derive_return_status(self.lines)

    def line_of(self, sku: str) -> ReturnLine | None:
        """The return's line of this SKU, if it has one."""
        return next((line for line in self.lines if line.sku == sku), None)

    def emit(self, type_: str, payload: dict[str, object], at: datetime) -> None:
        """An outbox event of this return."""
        self.events.append(DomainEvent("return", self.id, type_, payload, at))


def derive_return_status(lines: Iterable[ReturnLine]) -> str:
    """opened (nothing received), received (every unit), else partially_received."""
    lines = list(lines)
    if not any(line.received for line in lines):
        return "opened"
    return RECEIVED if all(line.open == 0 for line in lines) else "partially_received"
