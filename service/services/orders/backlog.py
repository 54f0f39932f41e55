"""Backlog per location: open fulfilment lines over daily capacity (cached briefly)."""

from __future__ import annotations

import threading
import time

from service.store.unit_of_work import UnitOfWork

_SECONDS = 2.0
_cache: tuple[float, dict[str, int]] | None = None
_lock = threading.Lock()


def open_lines(uow: UnitOfWork) -> dict[str, int]:
    """Open fulfilment lines per location, refreshed at most every two seconds."""
    global _cache
    now = time.monotonic()
    cached = _cache
    if cached is not None and now - cached[0] < _SECONDS:
        return cached[1]
    counts = uow.orders.open_lines_per_location()
    with _lock:
        _cache = (now, counts)
    return counts


def ratio(open_count: int, daily_capacity: int) -> float:
    """Days of work queued: open lines over daily capacity (no capacity → one day per line)."""
    return open_count / daily_capacity if daily_capacity > 0 else float(open_count)
