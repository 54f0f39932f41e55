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
  SELECT x.id, x.order_id, x.location_id, x.status, x.cost, x.factors, x.reason,
         x.created_at, x.updated_at
  FROM json_to_recordset(CAST(:fulfilments AS json))
       AS x(id varchar, order_id varchar, location_id varchar, status varchar,
            cost double precision, factors json, reason varchar, created_at timestamp,
            updated_at timestamp)
  RETURNING id
), e AS (
  INSERT INTO events (aggregate_type, aggregate_id, type, payload, created_at, attempts)
  SELECT x.aggregate_type, x.aggregate_id, x.type, x.payload, x.created_at, 0
  FROM json_to_recordset(CAST(:events AS json))
       AS x(aggregate_type varchar, aggregate_id varchar, type varchar, payload json,
            created_at timestamp)
  RETURNING id
), fl AS (
  INSERT INTO fulfilment_lines (fulfilment_id, order_line_id, sku, quantity, quantity_shipped,
                                quantity_rejected, quantity_cancelled)
  SELECT x.fulfilment_id, x.order_line_id, x.sku, x.quantity, x.quantity_shipped,
         x.quantity_rejected, x.quantity_cancelled
  FROM json_to_recordset(CAST(:lines AS json))
       AS x(fulfilment_id varchar, order_line_id integer, sku varchar, quantity integer,
            quantity_shipped integer, quantity_rejected integer, quantity_cancelled integer)
  RETURNING id, fulfilment_id, order_line_id
)
SELECT id, fulfilment_id, order_line_id FROM fl
""")
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
_HEAD_COLUMNS = ("id", "order_id", "location_id", "status", "cost", "factors", "reason")


def _insert_pg(session: Session, heads: list[dict[str, Any]], lines: list[dict[str, Any]],
               events: list[DomainEvent]) -> list[int]:
    """One statement: the fulfilments, their lines (their ids in the order given: a
    fulfilment has one line per order line), the events; each table's rows as one JSON
    parameter (no array of JSON texts to escape)."""
    params = {
        "fulfilments": _ENCODER.encode([
            {**{c: h[c] for c in _HEAD_COLUMNS}, "created_at": _time(h["created_at"]),
             "updated_at": _time(h["updated_at"])} for h in heads]),
        "events": _ENCODER.encode([
            {"aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id,
             "type": e.type, "payload": e.payload, "created_at": _time(e.at)}
            for e in events]),
        "lines": _ENCODER.encode(lines)}
    ids = {(f, line): line_id for line_id, f, line in session.execute(_INSERT_PG, params)}
    return [ids[(row["fulfilment_id"], row["order_line_id"])] for row in lines]


def _time(value: datetime) -> str:
    """A timestamp as the database stores it (naive UTC), as JSON carries it."""
    return naive_utc(value).isoformat()


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
