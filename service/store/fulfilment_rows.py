"""Fulfilments written after their order: a re-route's new ones; the acceptance SLA's reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.orders import Fulfilment
from service.store.models import FulfilmentLineRow, FulfilmentRow


def insert_new(session: Session, order_id: str, fulfilments: list[Fulfilment],
               line_ids: dict[int, int | None]
               ) -> list[tuple[FulfilmentRow, list[FulfilmentLineRow]]]:
    """Insert fulfilments of an existing order (their lines get their storage ids)."""
    added = []
    for fulfilment in fulfilments:
        row = FulfilmentRow(id=fulfilment.id, order_id=order_id,
                            location_id=fulfilment.location_id, status=fulfilment.status,
                            cost=fulfilment.cost, factors=fulfilment.factors,
                            created_at=fulfilment.created_at, updated_at=fulfilment.updated_at)
        line_rows = [FulfilmentLineRow(fulfilment_id=fulfilment.id,
                                       order_line_id=line_ids[line.line_no], sku=line.sku,
                                       quantity=line.quantity, quantity_shipped=line.shipped,
                                       quantity_rejected=line.rejected,
                                       quantity_cancelled=line.cancelled)
                     for line in fulfilment.lines]
        session.add(row)
        session.flush()  # the fulfilment before its lines (they reference it)
        session.add_all(line_rows)
        session.flush()
        for line, line_row in zip(fulfilment.lines, line_rows, strict=True):
            line.id = line_row.id
        added.append((row, line_rows))
    return added


def unaccepted_before(session: Session, created_before: datetime, limit: int
                      ) -> list[tuple[str, str, datetime]]:
    """(id, location, created_at) of fulfilments still `created` since before a time, oldest
    first (the acceptance SLA's candidates; the index on status serves it)."""
    query = (select(FulfilmentRow.id, FulfilmentRow.location_id, FulfilmentRow.created_at)
             .where(FulfilmentRow.status == "created",
                    FulfilmentRow.created_at <= created_before)
             .order_by(FulfilmentRow.created_at, FulfilmentRow.id).limit(limit))
    return [(fid, loc, created) for fid, loc, created in session.execute(query)]
