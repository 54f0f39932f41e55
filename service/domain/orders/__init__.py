"""Orders as plain objects: lines, fulfilments, a derived status and the rules that change them."""

from .fulfilment import CLOSED, FORWARD_EVENTS, STEPS, IllegalTransition, next_status
from .model import (
    DomainEvent,
    Fulfilment,
    FulfilmentLine,
    OrderLine,
    PlannedShipment,
    Settlement,
)
from .order import Order, RequestedLine, Units
from .status import OPEN_FULFILMENT, SHIPPED, LineState, derive_status

__all__ = [
    "CLOSED",
    "FORWARD_EVENTS",
    "OPEN_FULFILMENT",
    "SHIPPED",
    "STEPS",
    "DomainEvent",
    "Fulfilment",
    "FulfilmentLine",
    "IllegalTransition",
    "LineState",
    "Order",
    "OrderLine",
    "PlannedShipment",
    "RequestedLine",
    "Settlement",
    "Units",
    "derive_status",
    "next_status",
]
