"""Backlog per location: open fulfilment lines over daily capacity (cached briefly)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.domain.orders import OPEN_FULFILMENT
from service.store.models import Fulfilment, FulfilmentLine

_SECONDS = 2.0
_cache: tuple[float, dict[str, int]] | None = None
_lock = threading.Lock()


def open_lines(session: Session) -> dict[str, int]:
    """Open fulfilment lines per location, refreshed at most every two seconds."""
    global _cache
    now = time.monotonic()
    cached = _cache
    if cached is not None and now - cached[0] < _SECONDS:
        return cached[1]
    query = (select(Fulfilment.location_id, func.count(FulfilmentLine.id))
             .join(FulfilmentLine, FulfilmentLine.fulfilment_id == Fulfilment.id)
             .where(Fulfilment.status.in_(OPEN_FULFILMENT))
             .group_by(Fulfilment.location_id))
    counts = {loc: int(n) for loc, n in session.execute(query)}
    with _lock:
        _cache = (now, counts)
    return counts


def ratio(open_count: int, daily_capacity: int) -> float:
    """Days of work queued: open lines over daily capacity (no capacity → one day per line)."""
    return open_count / daily_capacity if daily_capacity > 0 else float(open_count)


def forget() -> None:
    """Drop the cache (tests, or after this process created many fulfilments)."""
    global _cache
    with _lock:
        _cache = None
