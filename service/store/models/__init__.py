"""All tables; importing this module registers them on Base.metadata."""

from .base import Base
from .master import Location, Product
from .ops import ApiKey, Event, FeedFile, FeedRun, JobLease, RulesetActivation, SettlementRecord
from .orders import (
    BackorderWakeup,
    FulfilmentLineRow,
    FulfilmentRow,
    OrderLineRow,
    OrderRow,
    ReturnLineRow,
    ReturnRow,
)
from .rulesets import RulesetLoadProblem, RulesetVersion
from .stock import (
    ChannelAvailability,
    LocationStockState,
    Reservation,
    ReservationDeadline,
    StockPosition,
)
from .transfers import TransferLineRow, TransferRow
from .versions import CacheVersion, LocationBacklog
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiKey",
    "BackorderWakeup",
    "Base",
    "CacheVersion",
    "ChannelAvailability",
    "Event",
    "FeedFile",
    "FeedRun",
    "FulfilmentLineRow",
    "FulfilmentRow",
    "JobLease",
    "Location",
    "LocationBacklog",
    "LocationStockState",
    "OrderLineRow",
    "OrderRow",
    "Product",
    "Reservation",
    "ReservationDeadline",
    "ReturnLineRow",
    "ReturnRow",
    "RulesetActivation",
    "RulesetLoadProblem",
    "RulesetVersion",
    "SettlementRecord",
    "StockPosition",
    "TransferLineRow",
    "TransferRow",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
