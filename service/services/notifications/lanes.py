"""One event in flight per order and subscriber: new deliveries queue behind their order's
open one, and when it is done the next queued one becomes pending."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from service.domain.webhooks import admit
from service.store.unit_of_work import UnitOfWork

Lane = tuple[str, str]


def lane_of(row: dict[str, Any]) -> Lane:
    """A delivery's lane: its subscription and its order key."""
    return (row["subscription_id"], row["order_key"])


def admitted(uow: UnitOfWork, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New delivery rows with their status (pending, or queued behind an open one)."""
    admit(rows, uow.deliveries.busy_lanes([lane_of(r) for r in rows]))
    return rows


def advance(uow: UnitOfWork, lanes: Iterable[Lane], now: datetime) -> int:
    """Make the next queued delivery pending in each lane with nothing else open."""
    return len(uow.deliveries.promote_next(list(lanes), now))


def sweep(uow: UnitOfWork, now: datetime) -> int:
    """Advance every lane with queued deliveries (heals a promotion a concurrent replay or
    retry missed)."""
    return advance(uow, uow.deliveries.queued_lanes(), now)
