"""Identifiers the service gives what it creates (orders, fulfilments, reservations)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def new_id() -> str:
    """A new random identifier: 32 hex digits."""
    return uuid.uuid4().hex


def time_ordered_id(at: datetime) -> str:
    """A new identifier that sorts by creation time (UUIDv7-like): 32 hex digits, the first
    12 the milliseconds since the epoch of `at` (naive: UTC), then a `7` and 19 random ones.

    Orders get these: PostgreSQL range-partitions `orders` by id, so an id names its month.
    """
    return f"{id_prefix(at)}7{secrets.token_hex(10)[:19]}"


def id_prefix(at: datetime) -> str:
    """The 12 hex digits every `time_ordered_id` of the millisecond of `at` starts with: the
    ids made in [a, b) are exactly those >= id_prefix(a) and < id_prefix(b)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return f"{(at - _EPOCH) // _MILLISECOND:012x}"
