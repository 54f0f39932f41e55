"""All tables; importing this module registers them on Base.metadata."""

from .base import Base
from .console import ConsoleSession, RulesetDraft
from .experiments import ExperimentFile, ShadowDecision, VariantAvailability
from .master import Location, Product
from .ops import (
    ApiKey,
    Event,
    FeedFile,
    FeedRun,
    JobLease,
    JobMark,
    RulesetActivation,
    SettlementRecord,
)
from .orders import (
    BackorderWakeup,
    FulfilmentLineRow,
    FulfilmentRow,
    OrderKeyRow,
    OrderLineRow,
    OrderRow,
)
from .returns import ReturnLineRow, ReturnReceiptLineRow, ReturnReceiptRow, ReturnRow
from .rulesets import RulesetLoadProblem, RulesetVersion
from .settlements import SettlementExport, SettlementWatermark
from .stock import (
    ChannelAvailability,
    InventoryJournalEntry,
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
    "ConsoleSession",
    "Event",
    "ExperimentFile",
    "ShadowDecision",
    "VariantAvailability",
    "FeedFile",
    "FeedRun",
    "FulfilmentLineRow",
    "FulfilmentRow",
    "JobLease",
    "JobMark",
    "Location",
    "LocationBacklog",
    "InventoryJournalEntry",
    "LocationStockState",
    "OrderLineRow",
    "OrderKeyRow",
    "OrderRow",
    "Product",
    "Reservation",
    "ReservationDeadline",
    "ReturnLineRow",
    "ReturnReceiptLineRow",
    "ReturnReceiptRow",
    "ReturnRow",
    "RulesetActivation",
    "RulesetDraft",
    "RulesetLoadProblem",
    "RulesetVersion",
    "SettlementExport",
    "SettlementRecord",
    "SettlementWatermark",
    "StockPosition",
    "TransferLineRow",
    "TransferRow",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
