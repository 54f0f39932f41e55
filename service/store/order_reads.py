"""An order's rows read as plain rows (Core, statements built once): the order row (locked
when asked), its lines with the units its returns brought back, its fulfilments with their
lines; no ORM object is made (`OrderRows` builds the aggregate from them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

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

_RECEIVED = (select(_RL.c.order_line_id, func.sum(_RL.c.quantity_received).label("received"))
             .join(_R, _R.c.id == _RL.c.return_id).where(_R.c.order_id == bindparam("order_id"))
             .group_by(_RL.c.order_line_id).subquery())
_LINES = (select(*_OL.c, _RECEIVED.c.received)
          .outerjoin(_RECEIVED, _RECEIVED.c.order_line_id == _OL.c.id)
          .where(_OL.c.order_id == bindparam("order_id")).order_by(_OL.c.line_no))
_LINE_COLUMNS = [c.name for c in _FL.c]
_FULFILMENTS = (select(*_F.c, *[c.label(f"line_{c.name}") for c in _FL.c])
                .outerjoin(_FL, _FL.c.fulfilment_id == _F.c.id)
                .where(_F.c.order_id == bindparam("order_id"))
                .order_by(_F.c.created_at, _F.c.id, _FL.c.id))
_FULFILMENT_COLUMNS = [c.name for c in _F.c]


def read_order(session: Session, key: str, of_fulfilment: bool, lock: bool
               ) -> tuple[OrderRows, dict[int, int]] | None:
    """The rows of the order with id `key` (of the fulfilment `key` when `of_fulfilment`),
    its row locked when asked, and the units its returns brought back per line id."""
    found = session.execute(_STATEMENTS[(of_fulfilment, lock)], {"key": key}).mappings().first()
    if found is None:
        return None
    order = dict(found)
    children, received = _children(session, order["id"])
    return OrderRows(order, children), received


def _children(session: Session, order_id: str) -> tuple[OrderChildren, dict[int, int]]:
    lines: list[dict[str, Any]] = []
    back: dict[int, int] = {}
    for row in session.execute(_LINES, {"order_id": order_id}).mappings():
        line = dict(row)
        units = line.pop("received")
        lines.append(line)
        if units:
            back[line["id"]] = int(units)
    fulfilments: dict[str, dict[str, Any]] = {}
    fulfilment_lines: dict[str, list[dict[str, Any]]] = {}
    for row in session.execute(_FULFILMENTS, {"order_id": order_id}):  # one query for both
        values = row._mapping
        fid = values["id"]
        if fid not in fulfilments:
            fulfilments[fid] = {name: values[name] for name in _FULFILMENT_COLUMNS}
            fulfilment_lines[fid] = []
        if values["line_id"] is not None:
            fulfilment_lines[fid].append({name: values[f"line_{name}"]
                                          for name in _LINE_COLUMNS})
    return OrderChildren(lines, list(fulfilments.values()), fulfilment_lines), back
