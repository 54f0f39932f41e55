"""All tables; importing this module registers them on Base.metadata."""

from .base import Base, new_id, tags_text, utcnow
from .master import LOCATION_TYPES, Location, Product
from .ops import ApiKey, Event, FeedFile, FeedRun, JobLease, RulesetActivation, SettlementRecord
from .orders import Fulfilment, FulfilmentLine, Order, OrderLine, Return, ReturnLine
from .stock import (
    ChannelAvailability,
    HoldDeadline,
    LocationStockState,
    Reservation,
    StockPosition,
)

__all__ = [
    "LOCATION_TYPES",
    "ApiKey",
    "Base",
    "ChannelAvailability",
    "Event",
    "FeedFile",
    "FeedRun",
    "Fulfilment",
    "FulfilmentLine",
    "HoldDeadline",
    "JobLease",
    "Location",
    "LocationStockState",
    "Order",
    "OrderLine",
    "Product",
    "Reservation",
    "Return",
    "ReturnLine",
    "RulesetActivation",
    "SettlementRecord",
    "StockPosition",
    "new_id",
    "tags_text",
    "utcnow",
]
