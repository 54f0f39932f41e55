"""The API's JSON of a return: one serialiser, used by every answer."""

from __future__ import annotations

from typing import Any

from service.domain.returns import Receipt, Return


def return_view(ret: Return) -> dict[str, Any]:
    """The return, its lines (opened, received, still open) and its receipts."""
    return {
        "id": ret.id, "order_id": ret.order_id, "channel": ret.channel, "status": ret.status,
        "created_at": ret.created_at.isoformat(), "updated_at": ret.updated_at.isoformat(),
        "lines": [{"sku": ln.sku, "quantity": ln.quantity, "received": ln.received,
                   "open": ln.open, "reason": ln.reason} for ln in ret.lines],
        "receipts": [_receipt(r) for r in ret.receipts],
    }


def _receipt(receipt: Receipt) -> dict[str, Any]:
    return {"id": receipt.id, "location": receipt.location_id, "ruleset": receipt.ruleset,
            "received_at": receipt.received_at.isoformat(),
            "lines": [ln.to_dict() | {"ruleset": receipt.ruleset} for ln in receipt.lines]}
