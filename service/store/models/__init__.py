"""All tables; importing this module registers them on Base.metadata."""

from .base import Base, new_id, tags_text
from .master import LOCATION_TYPES, Location, Product
from .ops import ApiKey, Event, FeedFile, FeedRun, JobLease, RulesetActivation, SettlementRecord
from .orders import (
    FulfilmentLineRow,
    FulfilmentRow,
    OrderLineRow,
    OrderRow,
    ReturnLineRow,
    ReturnRow,
)
from .stock import (
    ChannelAvailability,
    LocationStockState,
    Reservation,
    ReservationDeadline,
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
    "FulfilmentLineRow",
    "FulfilmentRow",
    "JobLease",
    "Location",
    "LocationStockState",
    "OrderLineRow",
    "OrderRow",
    "Product",
    "Reservation",
    "ReservationDeadline",
    "ReturnLineRow",
    "ReturnRow",
    "RulesetActivation",
    "SettlementRecord",
    "StockPosition",
    "new_id",
    "tags_text",
]
