"""Fulfilments written after their order: a re-route's new ones; the acceptance SLA's reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from service.domain.orders import Fulfilment
from service.store.models import FulfilmentLineRow, FulfilmentRow


def insert_new(session: Session, order_id: str, fulfilments: list[Fulfilment],
               line_ids: dict[int, int | None]
               ) -> list[tuple[FulfilmentRow, list[FulfilmentLineRow]]]:
    """Insert fulfilments of an existing order in two statements (their lines get their
    storage ids), and hand back their rows as the session's, so later changes update them."""
    if not fulfilments:
        return []
    heads = [_head(order_id, f) for f in fulfilments]
    session.execute(insert(FulfilmentRow.__table__), heads)
    lines = [(line, {"fulfilment_id": f.id, "order_line_id": line_ids[line.line_no],
                     "sku": line.sku, "quantity": line.quantity,
                     "quantity_shipped": line.shipped, "quantity_rejected": line.rejected,
                     "quantity_cancelled": line.cancelled})
             for f in fulfilments for line in f.lines]
    table = FulfilmentLineRow.__table__
    ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                          [values for _line, values in lines]).scalars().all()
    line_rows: dict[str, list[FulfilmentLineRow]] = {f.id: [] for f in fulfilments}
    for (line, values), line_id in zip(lines, ids, strict=True):
        line.id = line_id
        line_rows[values["fulfilment_id"]].append(
            _attached(session, FulfilmentLineRow(id=line_id, **values)))
    return [(_attached(session, FulfilmentRow(**head)), line_rows[head["id"]])
            for head in heads]


def _head(order_id: str, f: Fulfilment) -> dict[str, Any]:
    return {"id": f.id, "order_id": order_id, "location_id": f.location_id,
            "status": f.status, "cost": f.cost, "factors": f.factors, "tracking": f.tracking,
            "reason": f.reason, "created_at": f.created_at, "updated_at": f.updated_at,
            "shipped_at": f.shipped_at, "delivered_at": f.delivered_at}


def _attached(session: Session, row: Any) -> Any:
    """A row just inserted with Core, made the session's own (persistent, not re-inserted)."""
    make_transient_to_detached(row)
    session.add(row)
    return row


def unaccepted_before(session: Session, created_before: datetime, limit: int
                      ) -> list[tuple[str, str, datetime]]:
    """(id, location, created_at) of fulfilments still `created` since before a time, oldest
    first (the acceptance SLA's candidates: ix_fulfilments_status_created)."""
    query = (select(FulfilmentRow.id, FulfilmentRow.location_id, FulfilmentRow.created_at)
             .where(FulfilmentRow.status == "created",
                    FulfilmentRow.created_at <= created_before)
             .order_by(FulfilmentRow.created_at, FulfilmentRow.id).limit(limit))
    return [(fid, loc, created) for fid, loc, created in session.execute(query)]
