"""Time partitions: periods, their names, which to create ahead and which are past retention.

Pure arithmetic on naive UTC timestamps (the columns partitioned are `timestamp without time
zone` holding UTC). A period is [start, end): a calendar month, an ISO week (Monday) or a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Interval = Literal["month", "week", "day"]
INTERVALS: tuple[Interval, ...] = ("month", "week", "day")


@dataclass(frozen=True)
class Partition:
    """One partition of a table: its name and bounds (both None: the DEFAULT partition)."""

    name: str
    start: datetime | None
    end: datetime | None

    @property
    def is_default(self) -> bool:
        return self.start is None


def period_start(at: datetime, interval: Interval) -> datetime:
    """The start of the period holding `at`."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if interval == "month":
        return day.replace(day=1)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day


def period_after(start: datetime, interval: Interval) -> datetime:
    """The start of the period after the one starting at `start`."""
    if interval == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start + timedelta(days=7 if interval == "week" else 1)


def periods(first: datetime, last: datetime, interval: Interval) -> list[tuple[datetime, datetime]]:
    """Every period from the one holding `first` to the one holding `last`, in order."""
    found, start = [], period_start(first, interval)
    while start <= last.replace(tzinfo=None):
        end = period_after(start, interval)
        found.append((start, end))
        start = end
    return found


def wanted(now: datetime, interval: Interval, ahead: int) -> list[tuple[datetime, datetime]]:
    """The current period and the `ahead` periods after it."""
    start = period_start(now, interval)
    last = start
    for _ in range(ahead):
        last = period_after(last, interval)
    return periods(start, last, interval)


def partition_name(table: str, start: datetime) -> str:
    """`events_p20261201`: the table and its period's first day."""
    return f"{table}_p{start:%Y%m%d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def gaps(wanted_periods: list[tuple[datetime, datetime]], existing: list[Partition]
         ) -> list[tuple[datetime, datetime]]:
    """The parts of the wanted periods no existing partition covers (after a change of
    interval a period may be covered in part: only the rest is created)."""
    bounded = sorted((p.start, p.end) for p in existing
                     if p.start is not None and p.end is not None)
    out = []
    for start, end in wanted_periods:
        for low, high in bounded:
            if low <= start < high:
                start = high
            elif start < low < end:
                end = low
        if start < end:
            out.append((start, end))
    return out


def past_retention(existing: list[Partition], now: datetime, days: int | None
                   ) -> list[Partition]:
    """Bounded partitions whose every row is older than `days` (None: kept forever),
    oldest first."""
    if days is None:
        return []
    horizon = now.replace(tzinfo=None) - timedelta(days=days)
    return sorted((p for p in existing if p.end is not None and p.end <= horizon),
                  key=lambda p: p.start or p.end)
