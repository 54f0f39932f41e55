"""The order repository: orders as `service.domain.orders.Order`, stored as rows.

`get` reads an order and everything under it into the aggregate; `save` writes back what the
aggregate changed, with its new outbox events and settlement records, in the caller's
transaction; `add` writes a new order in one statement on PostgreSQL (`orders_pg`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service.domain.orders import (
    OPEN_FULFILMENT,
    Fulfilment,
    Order,
)
from service.store import fulfilment_rows, order_updates_pg, orders_pg
from service.store.backlog import Backlog, open_lines
from service.store.models import (
    Event,
    FulfilmentLineRow,
    FulfilmentRow,
    OrderKeyRow,
    OrderLineRow,
    OrderRow,
    SettlementRecord,
)
from service.store.order_aggregate_rows import OrderChildren, OrderRows, fulfilment_of
from service.store.order_rows import insert_core, new_order_rows
from service.store.returns import ReturnRepository


class OrderRepository:
    """Orders of one transaction; remembers the rows of each order it read, for `save`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.backlog = Backlog(session)
        self._rows: dict[str, OrderRows] = {}

    def get(self, order_id: str, lock: bool = False) -> Order | None:
        """The order and everything under it (its row locked when asked).

        Under the lock every row is read afresh, even one the session read before it: another
        writer may have changed it while this one waited.
        """
        return self._read(select(OrderRow).where(OrderRow.id == order_id), lock)

    def get_of_fulfilment(self, fulfilment_id: str, lock: bool = False) -> Order | None:
        """The order a fulfilment belongs to, as `get` reads it (found and locked at once)."""
        query = (select(OrderRow).join(FulfilmentRow, FulfilmentRow.order_id == OrderRow.id)
                 .where(FulfilmentRow.id == fulfilment_id))
        return self._read(query, lock)

    def _read(self, query: Any, lock: bool) -> Order | None:
        fresh = {"populate_existing": True} if lock else {}
        query = query.execution_options(**fresh)
        row = self.session.scalars(query.with_for_update(of=OrderRow) if lock else query).first()
        if row is None:
            return None
        children, received = self._children(row.id, fresh)
        rows = OrderRows(row, children)
        self._rows[row.id] = rows
        return rows.order(received)

    def find_by_key(self, channel: str, key: str) -> tuple[str | None, dict[str, Any]] | None:
        """(request hash, 201 body) of the order placed earlier with this Idempotency-Key."""
        query = select(OrderRow.request_hash, OrderRow.response)
        if self._keys_aside():  # by the key's order id: one partition
            query = query.join(OrderKeyRow, OrderKeyRow.order_id == OrderRow.id).where(
                OrderKeyRow.channel == channel, OrderKeyRow.idempotency_key == key)
        else:
            query = query.where(OrderRow.channel == channel, OrderRow.idempotency_key == key)
        row = self.session.execute(query).first()
        return None if row is None else (row[0], row[1] or {})

    def find_by_ref(self, channel: str, order_ref: str) -> str | None:
        """The id of the channel's order with this order_ref."""
        if self._keys_aside():
            return self.session.scalar(select(OrderKeyRow.order_id).where(
                OrderKeyRow.channel == channel, OrderKeyRow.order_ref == order_ref))
        return self.session.scalar(select(OrderRow.id).where(
            OrderRow.channel == channel, OrderRow.order_ref == order_ref))

    def _keys_aside(self) -> bool:
        """Whether the unique keys live in `order_keys` (PostgreSQL: orders partitioned)."""
        return self._postgres()

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def add(self, order: Order, response: dict[str, Any]) -> None:
        """Write a new order with its events (`response` is kept for Idempotency-Key replays).

        One statement on PostgreSQL (its locations' kept backlog too); up to seven Core
        statements elsewhere. Never the unit of work's ORM flush: this is the write path of
        every order.
        """
        pending = self.pending(order, response)
        if self.session.get_bind().dialect.name == "postgresql":
            orders_pg.insert_order(self.session, pending.new, pending.backlog)  # backlog too
            self.added(order)
            return
        self.added(order)
        insert_core(self.session, pending.new)
        self.backlog.move(pending.backlog)

    def pending(self, order: Order, response: dict[str, Any]) -> orders_pg.PendingOrder:
        """A new order's rows, for `add` or for a statement that writes them with others
        (PostgreSQL: the allocation's, `PositionRepository.allocate_if_unchanged`); once
        written, call `added`."""
        return orders_pg.PendingOrder(
            new_order_rows(order, response),
            open_lines((f.location_id, f.status, len(f.lines)) for f in order.fulfilments))

    def added(self, order: Order) -> None:
        """The order's rows are written: its events and settlements are out, the kept
        backlog moved."""
        order.events.clear()
        order.settlements.clear()
        self.backlog.forget()

    def save(self, order: Order) -> None:
        """Write back what the aggregate changed, its new events and settlement records."""
        rows = self._rows[order.id]
        before = open_lines((f.location_id, f.status, len(rows.children.fulfilment_lines[f.id]))
                            for f in rows.children.fulfilments)
        self._add_lines(order, rows)
        line_ids = {line.line_no: line.id for line in order.lines}
        events_written = self._add_fulfilments(order, rows, line_ids)
        rows.update_from(order)
        if self._postgres():  # one statement, not the flush's round trip per table
            order_updates_pg.write_changes(self.session, rows.all_rows())
        for event in [] if events_written else order.events:
            self.session.add(Event(aggregate_type=event.aggregate_type,
                                   aggregate_id=event.aggregate_id, type=event.type,
                                   payload=event.payload, created_at=event.at, attempts=0))
        for s in order.settlements:
            self.session.add(SettlementRecord(
                kind=s.kind, order_id=order.id, order_line_id=line_ids[s.line_no], sku=s.sku,
                location_id=s.location_id, quantity=s.quantity, amount=s.amount,
                created_at=s.at))
        order.events.clear()
        order.settlements.clear()
        self.session.flush()
        after = open_lines((f.location_id, f.status, len(f.lines)) for f in order.fulfilments)
        self.backlog.move({loc: after[loc] - before[loc] for loc in after.keys() | before})

    def _add_lines(self, order: Order, rows: OrderRows) -> None:
        """Insert the lines the aggregate gained (an edit), setting their storage ids."""
        for line in (line for line in order.lines if line.id is None):
            row = OrderLineRow(order_id=order.id, line_no=line.line_no, sku=line.sku,
                               quantity=line.quantity, unit_price=line.unit_price,
                               quantity_cancelled=line.cancelled,
                               quantity_backordered=line.backordered)
            self.session.add(row)
            self.session.flush()
            line.id, rows.line_nos[row.id] = row.id, line.line_no
            rows.children.lines.append(row)

    def _add_fulfilments(self, order: Order, rows: OrderRows, line_ids: dict[int, int | None]
                         ) -> bool:
        """Insert the fulfilments the aggregate gained (a re-route), remembering their rows;
        whether its new events went in with them (PostgreSQL: one statement)."""
        known = rows.children.fulfilment_lines
        added, events_written = fulfilment_rows.insert_new(
            self.session, order.id, [f for f in order.fulfilments if f.id not in known],
            line_ids, order.events)
        for row, line_rows in added:
            rows.children.fulfilments.append(row)
            known[row.id] = line_rows
        return events_written

    def unaccepted_before(self, created_before: datetime, limit: int
                          ) -> list[tuple[str, str, datetime]]:
        """(id, location, created_at) of fulfilments still `created` since before a time."""
        return fulfilment_rows.unaccepted_before(self.session, created_before, limit)

    def queue(self, location_id: str, statuses: Sequence[str], after: str | None, limit: int
              ) -> list[Queued] | None:
        """A page of a location's fulfilments in these statuses, oldest first, after the
        fulfilment `after` (None when `after` is no fulfilment of the location)."""
        query = (select(FulfilmentRow, OrderRow.ship_to)
                 .join(OrderRow, OrderRow.id == FulfilmentRow.order_id)
                 .where(FulfilmentRow.location_id == location_id,
                        FulfilmentRow.status.in_(list(statuses)))
                 .order_by(FulfilmentRow.created_at, FulfilmentRow.id).limit(limit))
        if after is not None:
            created = self.session.scalar(select(FulfilmentRow.created_at).where(
                FulfilmentRow.id == after, FulfilmentRow.location_id == location_id))
            if created is None:
                return None
            query = query.where(or_(FulfilmentRow.created_at > created,
                                    and_(FulfilmentRow.created_at == created,
                                         FulfilmentRow.id > after)))
        found = self.session.execute(query).all()
        lines = self._lines_of([f.id for f, _ship_to in found], {})
        line_nos = self._line_numbers({r.order_line_id for rows in lines.values() for r in rows})
        return [Queued(f.order_id, ship_to or {}, fulfilment_of(f, lines.get(f.id, []), line_nos))
                for f, ship_to in found]

    def open_lines_per_location(self) -> dict[str, int]:
        """Open fulfilment lines per location (the backlog), counted from the fulfilments
        themselves (what `backlog.per_location()` keeps; for checks)."""
        query = (select(FulfilmentRow.location_id, func.count(FulfilmentLineRow.id))
                 .join(FulfilmentLineRow, FulfilmentLineRow.fulfilment_id == FulfilmentRow.id)
                 .where(FulfilmentRow.status.in_(OPEN_FULFILMENT))
                 .group_by(FulfilmentRow.location_id))
        return {loc: int(n) for loc, n in self.session.execute(query)}

    def _line_numbers(self, order_line_ids: set[int]) -> dict[int, int]:
        """The line number of each of these order lines (by their row id)."""
        if not order_line_ids:
            return {}
        return dict(self.session.execute(select(OrderLineRow.id, OrderLineRow.line_no)
                                         .where(OrderLineRow.id.in_(order_line_ids))).all())

    def _children(self, order_id: str, fresh: dict[str, Any]
                  ) -> tuple[OrderChildren, dict[int, int]]:
        """The order's rows under it, and the units its returns brought back per line id
        (the status counts them), read with the lines."""
        received = ReturnRepository.received_by_line(order_id)
        lines: list[OrderLineRow] = []
        back: dict[int, int] = {}
        for line, units in self.session.execute(
                select(OrderLineRow, received.c.received)
                .outerjoin(received, received.c.order_line_id == OrderLineRow.id)
                .where(OrderLineRow.order_id == order_id)
                .order_by(OrderLineRow.line_no).execution_options(**fresh)):
            lines.append(line)
            if units:
                back[line.id] = int(units)
        fulfilments: dict[str, FulfilmentRow] = {}
        fulfilment_lines: dict[str, list[FulfilmentLineRow]] = {}
        for fulfilment, line in self.session.execute(  # one query for both
                select(FulfilmentRow, FulfilmentLineRow)
                .outerjoin(FulfilmentLineRow, FulfilmentLineRow.fulfilment_id == FulfilmentRow.id)
                .where(FulfilmentRow.order_id == order_id)
                .order_by(FulfilmentRow.created_at, FulfilmentRow.id, FulfilmentLineRow.id)
                .execution_options(**fresh)):
            fulfilments.setdefault(fulfilment.id, fulfilment)
            found = fulfilment_lines.setdefault(fulfilment.id, [])
            if line is not None:
                found.append(line)
        return OrderChildren(lines, list(fulfilments.values()), fulfilment_lines), back

    def _lines_of(self, ids: list[str], fresh: dict[str, Any]
                  ) -> dict[str, list[FulfilmentLineRow]]:
        out: dict[str, list[FulfilmentLineRow]] = {fid: [] for fid in ids}
        if ids:
            query = (select(FulfilmentLineRow).where(FulfilmentLineRow.fulfilment_id.in_(ids))
                     .order_by(FulfilmentLineRow.id).execution_options(**fresh))
            for row in self.session.scalars(query):
                out[row.fulfilment_id].append(row)
        return out


@dataclass(frozen=True)
class Queued:
    """A fulfilment in a location's work queue, with its order's id and ship-to."""

    order_id: str
    ship_to: dict[str, Any]
    fulfilment: Fulfilment
