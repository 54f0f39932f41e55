"""An order's rows read as plain rows (Core, statements built once): the order row (locked
when asked), its lines with the units its returns brought back, its fulfilments with their
lines; no ORM object is made (`OrderRows` builds the aggregate from them).

On PostgreSQL the three statements go in one round trip (psycopg's pipeline), the children's
finding the order by the fulfilment's id themselves: the server runs them one after the
other, each on a snapshot taken when it starts, so the children are read once the order's
lock is held, as when they were sent apart.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from service.store.db import driver_errors
from service.store.models import (
    FulfilmentLineRow,
    FulfilmentRow,
    OrderLineRow,
    OrderRow,
    ReturnLineRow,
    ReturnRow,
)
from service.store.order_aggregate_rows import OrderChildren, OrderRows

_O, _OL = OrderRow.__table__, OrderLineRow.__table__
_F, _FL = FulfilmentRow.__table__, FulfilmentLineRow.__table__
_R, _RL = ReturnRow.__table__, ReturnLineRow.__table__

# every column of the order but the 201 body kept for Idempotency-Key replays
_ORDER_COLUMNS = [c for c in _O.c if c.name != "response"]
_BY_ID = select(*_ORDER_COLUMNS).where(_O.c.id == bindparam("key"))
_BY_FULFILMENT = (select(*_ORDER_COLUMNS).join(_F, _F.c.order_id == _O.c.id)
                  .where(_F.c.id == bindparam("key")))
_STATEMENTS = {
    (False, False): _BY_ID, (False, True): _BY_ID.with_for_update(of=_O),
    (True, False): _BY_FULFILMENT, (True, True): _BY_FULFILMENT.with_for_update(of=_O)}


def _children_of(order_id: ColumnElement[Any]) -> tuple[Any, Any]:
    """The statements of the lines (with units received back) and of the fulfilments (with
    their lines) of the order `order_id` names."""
    received = (select(_RL.c.order_line_id, func.sum(_RL.c.quantity_received).label("received"))
                .join(_R, _R.c.id == _RL.c.return_id).where(_R.c.order_id == order_id)
                .group_by(_RL.c.order_line_id).subquery())
    lines = (select(*_OL.c, received.c.received)
             .outerjoin(received, received.c.order_line_id == _OL.c.id)
             .where(_OL.c.order_id == order_id).order_by(_OL.c.line_no))
    fulfilments = (select(*_F.c, *[c.label(f"line_{c.name}") for c in _FL.c])
                   .outerjoin(_FL, _FL.c.fulfilment_id == _F.c.id)
                   .where(_F.c.order_id == order_id)
                   .order_by(_F.c.created_at, _F.c.id, _FL.c.id))
    return lines, fulfilments


_LINES, _FULFILMENTS = _children_of(bindparam("order_id"))
# PostgreSQL, sent with the order's statement: the order found by its id, or by a fulfilment's
_CHILDREN_BY = {False: _children_of(bindparam("key")), True: _children_of(
    select(_F.c.order_id).where(_F.c.id == bindparam("key")).scalar_subquery())}
_LINE_COLUMNS = [c.name for c in _FL.c]
_FULFILMENT_COLUMNS = [c.name for c in _F.c]


def read_order(session: Session, key: str, of_fulfilment: bool, lock: bool
               ) -> tuple[OrderRows, dict[int, int]] | None:
    """The rows of the order with id `key` (of the fulfilment `key` when `of_fulfilment`),
    its row locked when asked, and the units its returns brought back per line id."""
    if session.get_bind().dialect.name == "postgresql":
        return _read_pipelined(session, key, of_fulfilment, lock)
    return read_apart(session, key, of_fulfilment, lock)


def read_apart(session: Session, key: str, of_fulfilment: bool, lock: bool
               ) -> tuple[OrderRows, dict[int, int]] | None:
    """read_order statement by statement (SQLite's way; any database)."""
    found = session.execute(_STATEMENTS[(of_fulfilment, lock)], {"key": key}).mappings().first()
    if found is None:
        return None
    order = dict(found)
    children, received = _children(session, order["id"])
    return OrderRows(order, children), received


def _read_pipelined(session: Session, key: str, of_fulfilment: bool, lock: bool
                    ) -> tuple[OrderRows, dict[int, int]] | None:
    """read_order's three statements in one round trip (see the module)."""
    statements = _compiled(session.get_bind().dialect, of_fulfilment, lock)
    with driver_errors(session, statements[0], {"key": key}) as pg:
        with pg.pipeline():
            cursors = [pg.cursor() for _ in statements]
            for cursor, sql in zip(cursors, statements, strict=True):
                cursor.execute(sql, {"key": key})
        order_rows, line_rows, fulfilment_rows = [_as_read(cursor) for cursor in cursors]
        for cursor in cursors:
            cursor.close()
    if not order_rows:
        return None
    children, received = _children_from(line_rows, fulfilment_rows)
    return OrderRows(order_rows[0], children), received


_COMPILED: dict[tuple[bool, bool], tuple[str, str, str]] = {}


def _compiled(dialect: Dialect, of_fulfilment: bool, lock: bool) -> tuple[str, str, str]:
    """The order's, its lines' and its fulfilments' statements as the driver takes them."""
    if (of_fulfilment, lock) not in _COMPILED:
        _COMPILED[(of_fulfilment, lock)] = tuple(  # type: ignore[assignment]
            str(statement.compile(dialect=dialect)) for statement in (
                _STATEMENTS[(of_fulfilment, lock)], *_CHILDREN_BY[of_fulfilment]))
    return _COMPILED[(of_fulfilment, lock)]


_TIMESTAMP = 1114  # PostgreSQL's OID of `timestamp` (without time zone): every stored time


def _as_read(cursor: Any) -> list[dict[str, Any]]:
    """A cursor's rows as dicts by column, as the ORM's types give them: timestamps (stored
    naive UTC) aware in UTC."""
    names = [column.name for column in cursor.description]
    stamps = [i for i, column in enumerate(cursor.description)
              if column.type_code == _TIMESTAMP]
    out = []
    for row in cursor.fetchall():
        values = list(row)
        for i in stamps:
            if values[i] is not None:
                values[i] = values[i].replace(tzinfo=UTC)
        out.append(dict(zip(names, values, strict=True)))
    return out


def _children(session: Session, order_id: str) -> tuple[OrderChildren, dict[int, int]]:
    return _children_from(session.execute(_LINES, {"order_id": order_id}).mappings(),
                          session.execute(_FULFILMENTS, {"order_id": order_id}).mappings())


def _children_from(line_rows: Any, fulfilment_rows: Any
                   ) -> tuple[OrderChildren, dict[int, int]]:
    """The children as read (lines with units received back; fulfilments joined with their
    lines, one query for both), and the units received back per line id."""
    lines: list[dict[str, Any]] = []
    back: dict[int, int] = {}
    for row in line_rows:
        line = dict(row)
        units = line.pop("received")
        lines.append(line)
        if units:
            back[line["id"]] = int(units)
    fulfilments: dict[str, dict[str, Any]] = {}
    fulfilment_lines: dict[str, list[dict[str, Any]]] = {}
    for values in fulfilment_rows:
        fid = values["id"]
        if fid not in fulfilments:
            fulfilments[fid] = {name: values[name] for name in _FULFILMENT_COLUMNS}
            fulfilment_lines[fid] = []
        if values["line_id"] is not None:
            fulfilment_lines[fid].append({name: values[f"line_{name}"]
                                          for name in _LINE_COLUMNS})
    return OrderChildren(lines, list(fulfilments.values()), fulfilment_lines), back
