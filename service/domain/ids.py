"""Identifiers the service gives what it creates (orders, fulfilments, reservations)."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A new random identifier: 32 hex digits."""
    return uuid.uuid4().hex
