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
from .rejecting import SLA_EXPIRED, shipments_left
from .releasing import backordered_units, release_backorder
from .shortage import ON_SHORT, default_on_short, planner_fallback, refused, split_short
from .status import OPEN_FULFILMENT, SHIPPED, LineState, derive_status

__all__ = [
    "CLOSED",
    "FORWARD_EVENTS",
    "ON_SHORT",
    "OPEN_FULFILMENT",
    "SHIPPED",
    "SLA_EXPIRED",
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
    "backordered_units",
    "default_on_short",
    "derive_status",
    "next_status",
    "planner_fallback",
    "refused",
    "release_backorder",
    "shipments_left",
    "split_short",
]
