"""The one clock: every use case and repository asks `ctx.clock` what time it is.

Production uses the system clock; tests pass a `MovableClock` (or move the system clock with
time-machine) instead of sleeping until a reservation or a lease runs out.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time: timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


class MovableClock:
    """A clock that stands still until moved (tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The time it was last set to."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by seconds; the new time."""
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now
