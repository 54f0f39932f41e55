"""The API's JSON of a transfer: one serialiser, used by every transfer endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.domain.transfers import Transfer


def transfer_view(transfer: Transfer) -> dict[str, Any]:
    """The transfer, and where each SKU's units are: allocated, in transit, received."""
    return {
        "id": transfer.id, "from": transfer.source, "to": transfer.destination,
        "status": transfer.status, "reference": transfer.reference,
        "tracking": transfer.tracking, "reason": transfer.reason,
        "created_at": transfer.created_at.isoformat(), "updated_at": _time(transfer.updated_at),
        "shipped_at": _time(transfer.shipped_at), "closed_at": _time(transfer.closed_at),
        "expected_at": _time(transfer.expected_at),
        "lines": [{"sku": ln.sku, "quantity": ln.quantity, "allocated": ln.allocated,
                   "shipped": ln.shipped, "in_transit": ln.in_transit,
                   "received": ln.received, "missing": ln.missing,
                   "cancelled": ln.cancelled} for ln in transfer.lines],
    }


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
