"""Returns (RMAs) as plain objects: opened for shipped units, received in parts at locations."""

from .model import (
    RECEIVED,
    RETURN_LOCATION_TYPES,
    STATUSES,
    Receipt,
    ReceivedLine,
    Return,
    ReturnLine,
    derive_return_status,
    takes_returns,
)
from .opening import open_return, returnable
from .receiving import checked_receipt, receive, record_returned

__all__ = [
    "RECEIVED",
    "RETURN_LOCATION_TYPES",
    "STATUSES",
    "Receipt",
    "ReceivedLine",
    "Return",
    "ReturnLine",
    "checked_receipt",
    "derive_return_status",
    "open_return",
    "receive",
    "record_returned",
    "returnable",
    "takes_returns",
]
