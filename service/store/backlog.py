"""Open fulfilment lines per location (`location_backlog`), kept exact: moved in the
transaction that opens or closes lines (the order repository's `add` and `save`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from service.domain.orders import OPEN_FULFILMENT
from service.store.models import LocationBacklog
from service.store.upsert import insert_for


def open_lines(fulfilments: Iterable[tuple[str, str, int]]) -> Counter[str]:
    """Open lines per location of (location, status, line count) fulfilments."""
    counts: Counter[str] = Counter()
    for location, status, lines in fulfilments:
        if status in OPEN_FULFILMENT and lines:
            counts[location] += lines
    return counts


class Backlog:
    """The kept backlog of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def per_location(self) -> dict[str, int]:
        """Open fulfilment lines per location (locations with none may be absent)."""
        return {loc: int(n) for loc, n in self.session.execute(
            select(LocationBacklog.location_id, LocationBacklog.open_lines)) if n}

    def move(self, deltas: Mapping[str, int]) -> None:
        """Add each location's change, locations in id order (writers never deadlock); a
        count never goes below 0."""
        table = LocationBacklog.__table__
        for location in sorted(loc for loc, n in deltas.items() if n):
            stmt = insert_for(self.session, table).values(
                location_id=location, open_lines=max(0, deltas[location]))
            summed = table.c.open_lines + deltas[location]
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["location_id"],
                set_={"open_lines": case((summed > 0, summed), else_=0)}))
