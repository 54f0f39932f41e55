"""Fulfilments written after their order: a re-route's new ones; the acceptance SLA's reads."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from service.domain.orders import DomainEvent, Fulfilment
from service.store.models import FulfilmentLineRow, FulfilmentRow
from service.store.models.base import naive_utc


def insert_new(session: Session, order_id: str, fulfilments: list[Fulfilment],
               line_ids: dict[int, int | None], events: list[DomainEvent]
               ) -> tuple[list[tuple[dict[str, Any], list[dict[str, Any]]]], bool]:
    """Insert fulfilments of an existing order (their lines get their storage ids), and hand
    back their rows as plain rows by column, so later changes update them. On PostgreSQL the
    order's new `events` go in with them, in one statement; the flag says whether they did."""
    if not fulfilments:
        return [], False
    heads = [_head(order_id, f) for f in fulfilments]
    lines = [(line, {"fulfilment_id": f.id, "order_line_id": line_ids[line.line_no],
                     "sku": line.sku, "quantity": line.quantity,
                     "quantity_shipped": line.shipped, "quantity_rejected": line.rejected,
                     "quantity_cancelled": line.cancelled})
             for f in fulfilments for line in f.lines]
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        ids = _insert_pg(session, heads, [values for _line, values in lines], events)
    else:
        session.execute(insert(FulfilmentRow.__table__), heads)
        table = FulfilmentLineRow.__table__
        ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                              [values for _line, values in lines]).scalars().all()
    line_rows: dict[str, list[dict[str, Any]]] = {f.id: [] for f in fulfilments}
    for (line, values), line_id in zip(lines, ids, strict=True):
        line.id = line_id
        line_rows[values["fulfilment_id"]].append({"id": line_id, **values})
    return [(head, line_rows[head["id"]]) for head in heads], postgres


_INSERT_PG = text("""
WITH f AS (
  INSERT INTO fulfilments (id, order_id, location_id, status, cost, factors, reason,
                           created_at, updated_at)
  SELECT x.id, x.order_id, x.location_id, x.status, x.cost, CAST(x.factors AS json), x.reason,
         x.created_at, x.updated_at
  FROM unnest(CAST(:f_id AS varchar[]), CAST(:f_order AS varchar[]),
              CAST(:f_location AS varchar[]), CAST(:f_status AS varchar[]),
              CAST(:f_cost AS double precision[]), CAST(:f_factors AS text[]),
              CAST(:f_reason AS varchar[]), CAST(:f_created AS timestamp[]),
              CAST(:f_updated AS timestamp[]))
       AS x(id, order_id, location_id, status, cost, factors, reason, created_at, updated_at)
  RETURNING id
), e AS (
  INSERT INTO events (aggregate_type, aggregate_id, type, payload, created_at, attempts)
  SELECT x.aggregate_type, x.aggregate_id, x.type, CAST(x.payload AS json), x.created_at, 0
  FROM unnest(CAST(:e_aggregate_type AS varchar[]), CAST(:e_aggregate_id AS varchar[]),
              CAST(:e_type AS varchar[]), CAST(:e_payload AS text[]),
              CAST(:e_created AS timestamp[]))
       AS x(aggregate_type, aggregate_id, type, payload, created_at)
  RETURNING id
), fl AS (
  INSERT INTO fulfilment_lines (fulfilment_id, order_line_id, sku, quantity, quantity_shipped,
                                quantity_rejected, quantity_cancelled)
  SELECT * FROM unnest(CAST(:l_fulfilment AS varchar[]), CAST(:l_line AS integer[]),
                       CAST(:l_sku AS varchar[]), CAST(:l_quantity AS integer[]),
                       CAST(:l_shipped AS integer[]), CAST(:l_rejected AS integer[]),
                       CAST(:l_cancelled AS integer[]))
  RETURNING id, fulfilment_id, order_line_id
)
SELECT id, fulfilment_id, order_line_id FROM fl
""")


def _insert_pg(session: Session, heads: list[dict[str, Any]], lines: list[dict[str, Any]],
               events: list[DomainEvent]) -> list[int]:
    """One statement: the fulfilments, their lines (their ids in the order given: a
    fulfilment has one line per order line), the events."""
    params = {
        "f_id": [h["id"] for h in heads], "f_order": [h["order_id"] for h in heads],
        "f_location": [h["location_id"] for h in heads], "f_status": [h["status"] for h in heads],
        "f_cost": [h["cost"] for h in heads],
        "f_factors": [json.dumps(h["factors"]) for h in heads],
        "f_reason": [h["reason"] for h in heads],
        "f_created": [naive_utc(h["created_at"]) for h in heads],
        "f_updated": [naive_utc(h["updated_at"]) for h in heads],
        "e_aggregate_type": [e.aggregate_type for e in events],
        "e_aggregate_id": [e.aggregate_id for e in events], "e_type": [e.type for e in events],
        "e_payload": [json.dumps(e.payload) for e in events],
        "e_created": [naive_utc(e.at) for e in events],
        **{f"l_{key}": [row[column] for row in lines] for key, column in (
            ("fulfilment", "fulfilment_id"), ("line", "order_line_id"), ("sku", "sku"),
            ("quantity", "quantity"), ("shipped", "quantity_shipped"),
            ("rejected", "quantity_rejected"), ("cancelled", "quantity_cancelled"))}}
    ids = {(f, line): line_id for line_id, f, line in session.execute(_INSERT_PG, params)}
    return [ids[(row["fulfilment_id"], row["order_line_id"])] for row in lines]


def _head(order_id: str, f: Fulfilment) -> dict[str, Any]:
    return {"id": f.id, "order_id": order_id, "location_id": f.location_id,
            "status": f.status, "cost": f.cost, "factors": f.factors, "tracking": f.tracking,
            "reason": f.reason, "created_at": f.created_at, "updated_at": f.updated_at,
            "shipped_at": f.shipped_at, "delivered_at": f.delivered_at}


def unaccepted_before(session: Session, created_before: datetime, limit: int
                      ) -> list[tuple[str, str, datetime]]:
    """(id, location, created_at) of fulfilments still `created` since before a time, oldest
    first (the acceptance SLA's candidates: ix_fulfilments_status_created)."""
    query = (select(FulfilmentRow.id, FulfilmentRow.location_id, FulfilmentRow.created_at)
             .where(FulfilmentRow.status == "created",
                    FulfilmentRow.created_at <= created_before)
             .order_by(FulfilmentRow.created_at, FulfilmentRow.id).limit(limit))
    return [(fid, loc, created) for fid, loc, created in session.execute(query)]
