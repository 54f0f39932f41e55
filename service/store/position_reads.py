"""Reading the positions of a few SKUs at chosen locations (sourcing's candidate reads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service.domain.ledger import available_units
from service.store.db import driver
from service.store.models import StockPosition
from service.store.pg_arrays import text_array

_QUERIES: dict[str, Any] = {}


class StockAt(NamedTuple):
    """A position's stock, with its id (for locking it later)."""

    id: int
    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int

    @property
    def available(self) -> int:
        """Free units: on hand, less allocated and reserved (never below 0)."""
        return available_units(self.on_hand, self.allocated, self.reserved)


def positions_at(session: Session, skus: Sequence[str], location_ids: Sequence[str]
                 ) -> list[StockAt]:
    """The positions of `skus` at `location_ids` (not locked)."""
    if not skus or not location_ids:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # the driver runs the text: no compilation per order
        with driver(session).cursor() as cursor:
            cursor.execute(_PG_TEXT, {"skus": text_array(skus),
                                      "locations": text_array(location_ids)})
            return list(map(StockAt._make, cursor.fetchall()))
    params = {"skus": list(skus), "locations": list(location_ids)}
    query = _QUERIES.get(dialect)
    if query is None:
        query = _QUERIES[dialect] = _query()
    return list(map(StockAt._make, session.execute(query, params).all()))


_PG_TEXT = ("SELECT id, location_id, sku, on_hand, allocated, reserved FROM stock_positions"
            " WHERE sku = ANY(CAST(%(skus)s AS text[]))"
            " AND location_id = ANY(CAST(%(locations)s AS text[]))")  # arrays as text


def _query() -> Any:
    """The statement for other databases (expanding IN lists), built once per dialect."""
    sp = StockPosition.__table__
    return select(sp.c.id, sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated,
                  sp.c.reserved).where(
        sp.c.sku.in_(bindparam("skus", expanding=True)),
        sp.c.location_id.in_(bindparam("locations", expanding=True)))
