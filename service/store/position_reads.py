"""Reading the positions of a few SKUs at chosen locations (sourcing's candidate reads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.store.models import StockPosition

_QUERIES: dict[str, Any] = {}


class StockAt(NamedTuple):
    """A position's figures, with its id (for locking it later)."""

    id: int
    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int


def positions_at(session: Session, skus: Sequence[str], location_ids: Sequence[str]
                 ) -> list[StockAt]:
    """The positions of `skus` at `location_ids` (not locked)."""
    if not skus or not location_ids:
        return []
    dialect = session.get_bind().dialect.name
    query = _QUERIES.get(dialect)
    if query is None:
        query = _QUERIES[dialect] = _query(dialect == "postgresql")
    rows = session.execute(query, {"skus": list(skus), "locations": list(location_ids)})
    return [StockAt(*r) for r in rows.all()]


def _query(arrays: bool) -> Any:
    """On PostgreSQL the keys are two array parameters: one statement text, prepared once."""
    sp = StockPosition.__table__
    query = select(sp.c.id, sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated,
                   sp.c.reserved)
    if arrays:
        return query.where(sp.c.sku == any_(bindparam("skus", type_=ARRAY(String))),
                           sp.c.location_id == any_(bindparam("locations", type_=ARRAY(String))))
    return query.where(sp.c.sku.in_(bindparam("skus", expanding=True)),
                       sp.c.location_id.in_(bindparam("locations", expanding=True)))
