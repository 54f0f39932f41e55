"""Finding orders (newest first, by any of the search filters, a page at a time) and an
order's timeline (its outbox events and its fulfilments', oldest first).

Each filter is served by an index of migration 0013: (channel, status, created_at, id),
(status, created_at, id), (created_at, id), (customer_id, created_at, id), (order_ref),
order_lines (sku, order_id), fulfilments (location_id, order_id) and events
(aggregate_type, aggregate_id, id).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.store import kept_connections, pg_prepared
from service.store.db import read_only
from service.store.errors import unavailable, unreachable
from service.store.models import (
    CacheVersion,
    Event,
    FulfilmentRow,
    OrderLineRow,
    OrderRow,
    ReturnRow,
)
from service.store.models.base import naive_utc
from service.store.models.versions import KEYS


@dataclass(frozen=True)
class OrderFilters:
    """What a search asks for; None means any."""

    channel: str | None = None
    status: str | None = None
    customer_id: str | None = None
    order_ref: str | None = None
    sku: str | None = None
    location: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class OrderSummary(NamedTuple):
    """An order as a search lists it (a tuple: built from a row without copying fields)."""

    id: str
    channel: str
    order_ref: str | None
    customer_id: str | None
    status: str
    delivery_method: str
    ruleset: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    aggregate_type: str
    aggregate_id: str
    type: str
    payload: dict[str, Any]
    at: datetime


class SummaryPage(NamedTuple):
    """A page of the search as its rows came (OrderSummary's fields, in that order, with the
    times as stored: naive UTC, no per-value conversion), and the `keys` cache version the
    same statement read (None for an empty page, which read none)."""

    rows: list[tuple[Any, ...]]
    keys_version: int | None


_SUMMARY = (OrderRow.id, OrderRow.channel, OrderRow.order_ref, OrderRow.customer_id,
            OrderRow.status, OrderRow.delivery_method, OrderRow.ruleset, OrderRow.created_at,
            OrderRow.updated_at)
# The same columns with the times as the driver returns them (naive UTC: UTCDateTime's
# conversion skipped), then the `keys` cache version (the request's key is confirmed by it).
_STORED_SUMMARY = (*_SUMMARY[:7], type_coerce(OrderRow.created_at, DateTime()),
                   type_coerce(OrderRow.updated_at, DateTime()),
                   func.coalesce(select(CacheVersion.version).where(CacheVersion.name == KEYS)
                                 .scalar_subquery(), 0))


class OrderSearch:
    """Read-only queries over orders for the search and the timeline."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, filters: OrderFilters, after: str | None, limit: int
             ) -> list[OrderSummary] | None:
        """A page of orders matching the filters, newest first, after the order `after`
        (None when `after` names no order)."""
        page = self.find_page(filters, after, limit)
        if page is None:
            return None
        return [OrderSummary(*row[:7], *(t.replace(tzinfo=UTC) for t in row[7:]))
                for row in page.rows]

    def find_page(self, filters: OrderFilters, after: str | None, limit: int
                  ) -> SummaryPage | None:
        """`find_page` (the module's) in this unit of work's session."""
        asked, params = _page_params(filters, after, limit)
        return _page(self.session.connection(), asked, after, params)

    def timeline(self, order_id: str) -> list[TimelineEntry]:
        """The order's events and its fulfilments' and returns' events, in the order they
        were written."""
        fulfilments = select(FulfilmentRow.id).where(FulfilmentRow.order_id == order_id)
        returns = select(ReturnRow.id).where(ReturnRow.order_id == order_id)
        query = (select(Event.id, Event.aggregate_type, Event.aggregate_id, Event.type,
                        Event.payload, Event.created_at)
                 .where(or_(and_(Event.aggregate_type == "order",
                                 Event.aggregate_id == order_id),
                            and_(Event.aggregate_type == "fulfilment",
                                 Event.aggregate_id.in_(fulfilments)),
                            and_(Event.aggregate_type == "return",
                                 Event.aggregate_id.in_(returns))))
                 .order_by(Event.id))
        return [TimelineEntry(*row) for row in self.session.execute(query)]


def find_page(engine: Engine, filters: OrderFilters, after: str | None, limit: int
              ) -> SummaryPage | None:
    """A page of orders matching the filters, newest first, after the order `after` (None
    when `after` names no order), as rows with the `keys` cache version. One autocommit
    statement (the cursor's time is a subquery; only an empty page asks whether the cursor
    exists). On PostgreSQL it runs on the kept connection (as the availability lookup does:
    no pool checkout, no statement execution machinery per request). A database that cannot
    be reached raises service.errors.Unavailable."""
    asked, params = _page_params(filters, after, limit)
    try:
        if engine.dialect.name == "postgresql":
            return kept_connections.run(engine, lambda conn: _pg_page(
                conn, engine.dialect, asked, after, params))
        with read_only(engine) as conn:
            return _page(conn, asked, after, params)
    except (DBAPIError, psycopg.OperationalError) as exc:
        if unreachable(exc):
            raise unavailable() from exc
        raise


def _page_params(filters: OrderFilters, after: str | None, limit: int
                 ) -> tuple[frozenset[str], dict[str, Any]]:
    asked = {name: value for name, value in vars(filters).items() if value is not None}
    params = asked | {"limit": limit} | ({} if after is None else {"after": after})
    return frozenset(asked), params


def _page(conn: Connection, asked: frozenset[str], after: str | None,
          params: dict[str, Any]) -> SummaryPage | None:
    rows = conn.execute(_page_statement(asked, after is not None), params).all()
    if not rows and after is not None and conn.scalar(
            select(OrderRow.id).where(OrderRow.id == after)) is None:
        return None
    return SummaryPage([row[:9] for row in rows], rows[0][9] if rows else None)


def _pg_page(conn: psycopg.Connection, dialect: Dialect, asked: frozenset[str],
             after: str | None, params: dict[str, Any]) -> SummaryPage | None:
    """The page on the kept connection: through libpq when the parameters go as UTF-8 text
    (one named prepared statement per text and connection, pg_prepared; the rows loaded by
    psycopg's loaders from the binary result), else through the cursor (the same rows, the
    same errors)."""
    cursor = after is not None
    name, sql, names, constants = _pg_statement(asked, cursor, params["limit"])
    texts = _text_params(conn, names, constants | params)
    if texts is None:
        return _pg_cursor_page(conn, dialect, asked, after, params)
    rows = pg_prepared.rows(conn, pg_prepared.execute(conn, name, sql, texts, binary=True))
    if not rows and cursor and not pg_prepared.execute(
            conn, _PG_ORDER_EXISTS_NAME, _PG_ORDER_EXISTS_SQL, [after.encode()]).ntuples:
        return None
    return SummaryPage([row[:9] for row in rows], rows[0][9] if rows else None)


def _pg_cursor_page(conn: psycopg.Connection, dialect: Dialect, asked: frozenset[str],
                    after: str | None, params: dict[str, Any]) -> SummaryPage | None:
    sql, defaults = _pg_text(dialect, asked, after is not None, params["limit"])
    values = defaults | params
    for name in ("created_from", "created_to"):  # as UTCDateTime binds them
        if name in values:
            values[name] = naive_utc(values[name])
    with conn.cursor() as cursor:
        rows = cursor.execute(sql, values).fetchall()
        if not rows and after is not None and cursor.execute(
                _PG_ORDER_EXISTS, (after,)).fetchone() is None:
            return None
    return SummaryPage([row[:9] for row in rows], rows[0][9] if rows else None)


_PG_ORDER_EXISTS = "SELECT 1 FROM orders WHERE id = %s"
_PG_ORDER_EXISTS_NAME = b"oms_search_order_exists"
_PG_ORDER_EXISTS_SQL = b"SELECT 1 FROM orders WHERE id = $1"
_UTF8 = "utf-8"
_NUMBERED = postgresql.psycopg.dialect(paramstyle="numeric_dollar")  # $1..$n
_STATEMENT_NUMBERS = itertools.count(1)


def _text_params(conn: psycopg.Connection, names: tuple[str, ...], values: dict[str, Any]
                 ) -> list[bytes | None] | None:
    """The statement's parameters as UTF-8 text, in its order (the times as naive UTC, as
    UTCDateTime binds them); None when they cannot go so (an encoding other than UTF-8, a
    NUL, a lone surrogate: the cursor runs the page, and refuses them as it always did)."""
    if conn.info.encoding != _UTF8:
        return None
    texts: list[bytes | None] = []
    for name in names:
        value = values[name]
        text_ = naive_utc(value).isoformat(" ") if isinstance(value, datetime) else str(value)
        if "\x00" in text_:
            return None
        try:
            texts.append(text_.encode())
        except UnicodeEncodeError:  # a lone surrogate
            return None
    return texts


@lru_cache(maxsize=1024)
def _pg_statement(asked: frozenset[str], cursor: bool, limit: int
                  ) -> tuple[bytes, bytes, tuple[str, ...], dict[str, Any]]:
    """_pg_text's statement for libpq: a name (new for each text this process builds), the
    text with $1..$n placeholders (the page size written in it, as _pg_text's), the
    parameters' names in their order, and the values of its constant ones."""
    limited = _ordered_statement(asked, cursor).limit(literal_column(str(int(limit)), Integer))
    compiled = limited.compile(dialect=_NUMBERED)
    name = f"oms_search_{next(_STATEMENT_NUMBERS)}".encode()
    return (name, str(compiled).encode(), tuple(compiled.positiontup or ()),
            dict(compiled.params))


@lru_cache(maxsize=1024)
def _pg_text(dialect: Dialect, asked: frozenset[str], cursor: bool, limit: int
             ) -> tuple[str, dict[str, Any]]:
    """The page's statement as the driver's text (psycopg prepares it once per connection)
    and the values of its constant parameters.

    The page size is written into the text (`LIMIT 100`), not bound: PostgreSQL plans a
    prepared statement's bound LIMIT as if it let a tenth of the matching rows through, so
    its generic plan looked 24 times dearer than a custom one and every execution was planned
    again, over every partition of `orders` (0.3-0.4 of the 0.5-0.6 ms of the server's CPU a
    page took at 7 partitions, growing with each month). With the size in the text the
    generic plan costs what the custom one does, and is kept. `limit` is page_limit's whole
    number (1 to 500): a handful of texts per filter set."""
    limited = _ordered_statement(asked, cursor).limit(literal_column(str(int(limit)), Integer))
    compiled = limited.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


@lru_cache(maxsize=512)  # at most 2^8 filter sets, with or without a cursor
def _page_statement(asked: frozenset[str], cursor: bool) -> Select:
    """The page's statement for these filters (bound by name, with `limit`, and `after`
    with a cursor), built once per set of filters: the same SQL as ever, without building
    the expression on every request."""
    return _ordered_statement(asked, cursor).limit(bindparam("limit", type_=Integer()))


@lru_cache(maxsize=512)
def _ordered_statement(asked: frozenset[str], cursor: bool) -> Select:
    """The page's statement without its LIMIT: the filters, the cursor and the order."""
    query = _filtered(select(*_STORED_SUMMARY), asked)
    if cursor:
        after = bindparam("after", type_=String())
        created = (select(OrderRow.created_at).where(OrderRow.id == after)
                   .scalar_subquery())
        # a row comparison: the (..., created_at, id) indexes bound their scan by it (an OR
        # of the two conditions they could only filter with, reading every newer row)
        query = query.where(tuple_(OrderRow.created_at, OrderRow.id) < tuple_(created, after))
    return query.order_by(OrderRow.created_at.desc(), OrderRow.id.desc())


def _filtered(query: Select, asked: frozenset[str]) -> Select:
    equal = {"channel": OrderRow.channel, "status": OrderRow.status,
             "customer_id": OrderRow.customer_id, "order_ref": OrderRow.order_ref}
    query = query.where(*(column == bindparam(name) for name, column in equal.items()
                          if name in asked))
    if "created_from" in asked:
        query = query.where(OrderRow.created_at >= bindparam("created_from"))
    if "created_to" in asked:
        query = query.where(OrderRow.created_at < bindparam("created_to"))
    if "sku" in asked:
        query = query.where(exists().where(OrderLineRow.order_id == OrderRow.id,
                                           OrderLineRow.sku == bindparam("sku")))
    if "location" in asked:
        query = query.where(exists().where(FulfilmentRow.order_id == OrderRow.id,
                                           FulfilmentRow.location_id == bindparam("location")))
    return query
