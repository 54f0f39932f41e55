"""PostgreSQL: a new order, its lines, fulfilments, fulfilment lines, events and settlement
records (units cancelled as it is placed), and its locations' kept backlog, in one statement.
Its Idempotency-Key and order_ref go to `order_keys`, whose unique constraints refuse a second
order with either (`orders` is partitioned: see store/order_partitions.py).

Data-modifying CTEs insert the order and everything under it in a single round trip (the
fulfilment lines find their order line ids by line number inside the statement). Lines and
fulfilments are selected from the order row the statement inserted, and a fulfilment line
only joined to a line and a fulfilment inserted with it, so none can point at nothing (no
foreign keys check them: migration 0032); a row count short of the rows sent raises. The
rows of each table under the order go in as a JSON text of their own (read by
json_to_recordset), the positions to allocate as arrays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.store import allocation_pg
from service.store.db import driver_errors
from service.store.models.base import naive_utc
from service.store.order_rows import NewOrder, check_children

_ORDER_COLUMNS = ("id", "channel", "order_ref", "customer_id", "status", "delivery_method",
                  "pickup_location_id", "ruleset", "idempotency_key", "request_hash",
                  "created_at", "updated_at", "on_short", "cancel_reason", "experiment",
                  "variant")
_ORDER_JSON = ("ship_to", "attributes", "plan", "explanation", "response")

# the insert's common table expressions; {gate} is empty, or a FROM ... WHERE that lets the
# order (and so every row under it) in only when another part of the statement allowed it
_INSERT_CTES = f"""
o AS (
  INSERT INTO orders ({", ".join(_ORDER_COLUMNS + _ORDER_JSON)})
  SELECT {", ".join(f":{c}" for c in _ORDER_COLUMNS)},
         {", ".join(f"CAST(:{c} AS json)" for c in _ORDER_JSON)} {{gate}}
  RETURNING id
), k AS (
  INSERT INTO order_keys (order_id, channel, idempotency_key, order_ref)
  SELECT o.id, :channel, :idempotency_key, :order_ref FROM o
  WHERE CAST(:idempotency_key AS varchar) IS NOT NULL OR CAST(:order_ref AS varchar) IS NOT NULL
), l AS (
  INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, quantity_cancelled,
                           quantity_backordered)
  SELECT o.id, x.line_no, x.sku, x.quantity, x.unit_price, 0, x.quantity_backordered
  FROM o, json_to_recordset(CAST(:lines_rows AS json))
          AS x(line_no integer, sku varchar, quantity integer, unit_price numeric,
               quantity_backordered integer)
  RETURNING id, line_no
), f AS (
  INSERT INTO fulfilments (id, order_id, location_id, status, cost, factors, created_at,
                           updated_at)
  SELECT x.id, o.id, x.location_id, 'created', x.cost, x.factors, :created_at, :created_at
  FROM o, json_to_recordset(CAST(:fulfilments_rows AS json))
          AS x(id varchar, location_id varchar, cost double precision, factors json)
  RETURNING id
), fl AS (
  INSERT INTO fulfilment_lines (fulfilment_id, order_line_id, sku, quantity, quantity_shipped,
                                quantity_rejected, quantity_cancelled)
  SELECT x.fulfilment_id, l.id, x.sku, x.quantity, 0, 0, 0
  FROM json_to_recordset(CAST(:fulfilment_lines_rows AS json))
         AS x(fulfilment_id varchar, line_no integer, sku varchar, quantity integer)
  JOIN l ON l.line_no = x.line_no JOIN f ON f.id = x.fulfilment_id
  RETURNING id
), e AS (
  INSERT INTO events (aggregate_type, aggregate_id, type, payload, created_at, attempts)
  SELECT x.aggregate_type, x.aggregate_id, x.type, x.payload, :created_at, 0
  FROM o, json_to_recordset(CAST(:events_rows AS json))
          AS x(aggregate_type varchar, aggregate_id varchar, type varchar, payload json)
  RETURNING id
), s AS (
  INSERT INTO settlement_records (kind, order_id, order_line_id, sku, quantity, amount,
                                  created_at)
  SELECT 'cancelled', o.id, l.id, x.sku, x.quantity, x.amount, :created_at
  FROM o, json_to_recordset(CAST(:settlements_rows AS json))
          AS x(line_no integer, sku varchar, quantity integer, amount numeric)
  JOIN l ON l.line_no = x.line_no
  RETURNING id
), b AS (
  INSERT INTO location_backlog (location_id, open_lines)
  SELECT x.location_id, x.open_lines
  FROM o, json_to_recordset(CAST(:backlog_rows AS json))
          AS x(location_id varchar, open_lines bigint)
  ORDER BY x.location_id
  ON CONFLICT (location_id)
  DO UPDATE SET open_lines = location_backlog.open_lines + EXCLUDED.open_lines
  RETURNING 1
)"""
# the rows each table got, as one text: "lines,fulfilments,fulfilment lines,events,..."
_INSERT_COUNTS = """concat_ws(',', (SELECT count(*) FROM l), (SELECT count(*) FROM f),
  (SELECT count(*) FROM fl), (SELECT count(*) FROM e), (SELECT count(*) FROM s),
  (SELECT count(*) FROM b))"""
_INSERT = text(f"WITH {_INSERT_CTES.format(gate='')} SELECT {_INSERT_COUNTS}")
# with the allocation (allocation_pg): the order goes in only if every unit was taken
_ALLOCATE_AND_INSERT = (
    f"WITH {allocation_pg.ALLOCATE_CTES}, {_INSERT_CTES.format(gate='FROM go WHERE go.ok')}"
    f"{allocation_pg.ALLOCATE_ROWS} UNION ALL "
    f"SELECT 'inserted', NULL, {_INSERT_COUNTS}, NULL, NULL, NULL, NULL")


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """A statement's :name parameters as PostgreSQL's $1, $2...; the names in that order."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${names.setdefault(match[1], len(names) + 1)}"

    return _NAMED.sub(number, " ".join(sql.split())), tuple(names)


_NAMED = re.compile(r"(?<![:\w]):(\w+)")
# Sent through psycopg's RawCursor with its parameters in order: the statement is longer
# than psycopg caches the conversion of %(name)s placeholders for (4,096 bytes, 50
# parameters), which would otherwise be parsed again for every order.
_ALLOCATE_AND_INSERT_SQL, _ALLOCATE_AND_INSERT_NAMES = numbered(_ALLOCATE_AND_INSERT)


@dataclass(frozen=True)
class PendingOrder:
    """A new order's rows and its locations' open lines, ready to go in."""

    new: NewOrder
    backlog: Mapping[str, int]


def insert_order(session: Session, new: NewOrder, backlog: Mapping[str, int]) -> None:
    """Insert the order in one statement, adding its open lines to each location's kept
    backlog (`backlog`, all positive) in it; raise if a row went missing (a line number
    typo)."""
    params, expected = _checked(PendingOrder(new, backlog))
    _check_counts(new, session.execute(_INSERT, params).scalar_one(), expected)


def allocate_and_insert(session: Session, seen: Sequence[allocation_pg.Seen],
                        deltas: Mapping[tuple[str, str], int], ruleset: str, now: datetime,
                        pending: PendingOrder) -> allocation_pg.Outcome:
    """allocation_pg.allocate_if_unchanged and, when it takes the units, insert_order, in
    one statement (one round trip); when a position moved, neither writes anything."""
    params, expected = _checked(pending)
    params.update(allocation_pg.parameters(seen, deltas, ruleset, now))
    rows = run_numbered(session, _ALLOCATE_AND_INSERT_SQL,
                         [params[name] for name in _ALLOCATE_AND_INSERT_NAMES])
    outcome = allocation_pg.outcome(rows, len(seen))
    counts = next(r[2] for r in rows if r[0] == "inserted")
    _check_counts(pending.new, counts, expected if outcome.taken else (0,) * len(expected))
    return outcome


def run_numbered(session: Session, sql: str, values: list[Any]) -> list[tuple[Any, ...]]:
    """Run a $n statement on the session's driver connection (its transaction); a database
    error is raised as SQLAlchemy raises it (IntegrityError, ...), so the unit of work maps
    it as any other (a duplicate Idempotency-Key, a deadlock, an unreachable database)."""
    with driver_errors(session, sql, values) as pg, psycopg.RawCursor(pg) as cursor:
        cursor.execute(sql, values)
        return cursor.fetchall()


def _checked(pending: PendingOrder) -> tuple[dict[str, Any], tuple[int, ...]]:
    """The insert's parameters and the row counts it must report."""
    new, backlog = pending.new, pending.backlog
    check_children(new)
    if any(s["kind"] != "cancelled" or s["created_at"] != new.order["created_at"]
           for s in new.settlements):
        raise ValueError("a new order settles only units it cancels when it is placed")
    locations = sorted(loc for loc, n in backlog.items() if n > 0)
    expected = (len(new.lines), len(new.fulfilments), len(new.fulfilment_lines),
                len(new.events), len(new.settlements), len(locations))
    params = _parameters(new, [{"location_id": loc, "open_lines": backlog[loc]}
                               for loc in locations])
    return params, expected


def _check_counts(new: NewOrder, counts: str, expected: tuple[int, ...]) -> None:
    got = tuple(int(n) for n in counts.split(","))
    if got != expected:
        raise RuntimeError(f"order {new.order['id']}: inserted {got}, expected {expected}")


def _parameters(new: NewOrder, backlog: list[dict[str, Any]]) -> dict[str, Any]:
    """The order's columns, and the rows of each table under it as one JSON text
    (`lines_rows`, `events_rows`, ...).

    A text per table, not an array per column: psycopg dumps and escapes arrays in Python,
    element by element (the JSON of the events and factors quote by quote), which cost more
    than everything else the statement's parameters need together. Not one document for all
    the tables either: PostgreSQL parsed all of it again for each table's `->` (about 100 us
    of its CPU an order, bench/changes.md).
    """
    order = new.order
    params: dict[str, Any] = {c: order.get(c) for c in _ORDER_COLUMNS}
    params.update({c: naive_utc(order[c]) for c in ("created_at", "updated_at")})
    params.update({c: json_text(order.get(c)) for c in _ORDER_JSON})
    params.update({f"{name}_rows": json_value(rows) for name, rows in (
        ("lines", new.lines), ("fulfilments", new.fulfilments),
        ("fulfilment_lines", new.fulfilment_lines), ("events", new.events),
        ("settlements", new.settlements), ("backlog", backlog))})
    return params


# the JSON of the hot path: orjson (as the order search's pages), keys that are not text
# written as text and numpy's numbers as numbers (as the standard library's encoder does);
# amounts (Decimal) as their exact text, which PostgreSQL reads into numeric columns
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_text(value: Any) -> str | None:
    """A value as the JSON text of the hot path's parameters (None stays NULL)."""
    return None if value is None else json_value(value)


def json_value(value: Any) -> str:
    """Any value as JSON text, as `json_text` writes it (None as `null`)."""
    return orjson.dumps(value, default=_exact, option=_JSON_OPTIONS).decode()
