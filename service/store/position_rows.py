"""A stock position as the store reads it, and the columns it is read from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.domain.ledger import latest
from service.store.models import StockPosition

NEVER_COUNTED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class PositionRow:
    id: int | None
    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int
    as_of: datetime | None
    shipped_at: datetime | None = None  # the newest shipment from it

    @property
    def counts_from(self) -> datetime | None:
        """A count older than this is stale: older than what the position knows, or taken
        before a shipment (it would bring the shipped units back)."""
        return latest(self.as_of, self.shipped_at)


def position_row(r: Sequence) -> PositionRow:
    """A PositionRow from (id, location, sku, on_hand, allocated, reserved, as_of[, shipped])."""
    return PositionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] if len(r) > 7 else None)


def position_columns() -> tuple[Any, list[Any]]:
    """The positions table and the columns a PositionRow is read from."""
    sp = StockPosition.__table__
    return sp, [sp.c.id, sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated,
                sp.c.reserved, sp.c.as_of, sp.c.last_shipped_at]


def row_locking(session: Session) -> bool:
    """Whether this database takes row locks (PostgreSQL) rather than a database lock."""
    return session.get_bind().dialect.name == "postgresql"
