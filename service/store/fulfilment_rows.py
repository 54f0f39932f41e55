"""Fulfilments written after their order: a re-route's new ones; the acceptance SLA's reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from service.domain.orders import DomainEvent, Fulfilment, FulfilmentLine
from service.store.models import FulfilmentLineRow, FulfilmentRow
from service.store.models.base import naive_utc
from service.store.orders_pg import json_value

Row = dict[str, Any]


@dataclass(frozen=True)
class NewFulfilments:
    """Fulfilments of an existing order as rows to insert: their heads, and each line of the
    aggregate with its row (which names its order line by storage id)."""

    heads: list[Row]
    lines: list[tuple[FulfilmentLine, Row]]

    def parameters(self, events: Sequence[DomainEvent]) -> dict[str, str]:
        """NEW_FULFILMENT_CTES' parameters: each table's rows as one JSON text (no array of
        JSON texts for the driver to escape)."""
        return {
            "nf_fulfilments": json_value([
                {**{c: h[c] for c in _HEAD_COLUMNS}, "created_at": _time(h["created_at"]),
                 "updated_at": _time(h["updated_at"])} for h in self.heads]),
            "nf_events": json_value([
                {"aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id,
                 "type": e.type, "payload": e.payload, "created_at": _time(e.at)}
                for e in events]),
            "nf_lines": json_value([values for _line, values in self.lines])}

    def stored(self, inserted: Iterable[Sequence[Any]]) -> list[tuple[Row, list[Row]]]:
        """Give each line the storage id the insert returned ((id, fulfilment_id,
        order_line_id) rows: a fulfilment has one line per order line); the rows by
        fulfilment, as read rows are kept."""
        ids = {(f, line): line_id for line_id, f, line in inserted}
        line_rows: dict[str, list[Row]] = {head["id"]: [] for head in self.heads}
        for line, values in self.lines:
            line.id = ids[(values["fulfilment_id"], values["order_line_id"])]
            line_rows[values["fulfilment_id"]].append({"id": line.id, **values})
        return [(head, line_rows[head["id"]]) for head in self.heads]


def new_fulfilments(order_id: str, fulfilments: list[Fulfilment],
                    line_ids: dict[int, int | None]) -> NewFulfilments:
    """The rows of fulfilments an existing order gained (`line_ids`: its lines' storage ids
    by line number)."""
    return NewFulfilments(
        [_head(order_id, f) for f in fulfilments],
        [(line, {"fulfilment_id": f.id, "order_line_id": line_ids[line.line_no],
                 "sku": line.sku, "quantity": line.quantity,
                 "quantity_shipped": line.shipped, "quantity_rejected": line.rejected,
                 "quantity_cancelled": line.cancelled})
         for f in fulfilments for line in f.lines])


def insert_new(session: Session, new: NewFulfilments, events: list[DomainEvent]
               ) -> tuple[list[tuple[Row, list[Row]]], bool]:
    """Insert fulfilments of an existing order (their lines get their storage ids), and hand
    back their rows as plain rows by column, so later changes update them. On PostgreSQL the
    order's new `events` go in with them, in one statement; the flag says whether they did."""
    if not new.heads:
        return [], False
    if session.get_bind().dialect.name == "postgresql":
        return new.stored(session.execute(_INSERT_PG, new.parameters(events))), True
    session.execute(insert(FulfilmentRow.__table__), new.heads)
    table = FulfilmentLineRow.__table__
    rows = [values for _line, values in new.lines]
    ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                          rows).scalars().all()
    return new.stored((line_id, values["fulfilment_id"], values["order_line_id"])
                      for line_id, values in zip(ids, rows, strict=True)), False


# the insert's common table expressions; {allowed} is a condition every row must meet (TRUE,
# or one that lets them in only when another part of the statement allowed it)
NEW_FULFILMENT_CTES = """
nf AS (
  INSERT INTO fulfilments (id, order_id, location_id, status, cost, factors, reason,
                           created_at, updated_at)
  SELECT x.id, x.order_id, x.location_id, x.status, x.cost, x.factors, x.reason,
         x.created_at, x.updated_at
  FROM json_to_recordset(CAST(:nf_fulfilments AS json))
       AS x(id varchar, order_id varchar, location_id varchar, status varchar,
            cost double precision, factors json, reason varchar, created_at timestamp,
            updated_at timestamp)
  WHERE {allowed}
  RETURNING id
), ne AS (
  INSERT INTO events (aggregate_type, aggregate_id, type, payload, created_at, attempts)
  SELECT x.aggregate_type, x.aggregate_id, x.type, x.payload, x.created_at, 0
  FROM json_to_recordset(CAST(:nf_events AS json))
       AS x(aggregate_type varchar, aggregate_id varchar, type varchar, payload json,
            created_at timestamp)
  WHERE {allowed}
  RETURNING id
), nfl AS (
  INSERT INTO fulfilment_lines (fulfilment_id, order_line_id, sku, quantity, quantity_shipped,
                                quantity_rejected, quantity_cancelled)
  SELECT x.fulfilment_id, x.order_line_id, x.sku, x.quantity, x.quantity_shipped,
         x.quantity_rejected, x.quantity_cancelled
  FROM json_to_recordset(CAST(:nf_lines AS json))
       AS x(fulfilment_id varchar, order_line_id integer, sku varchar, quantity integer,
            quantity_shipped integer, quantity_rejected integer, quantity_cancelled integer)
  WHERE {allowed}
  RETURNING id, fulfilment_id, order_line_id
)"""
_INSERT_PG = text(f"WITH {NEW_FULFILMENT_CTES.format(allowed='TRUE')}"
                  " SELECT id, fulfilment_id, order_line_id FROM nfl")
_HEAD_COLUMNS = ("id", "order_id", "location_id", "status", "cost", "factors", "reason")


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
