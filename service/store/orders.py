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

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.domain.orders import (
    OPEN_FULFILMENT,
    Fulfilment,
    Order,
)
from service.store import fulfilment_rows, orders_pg
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
from service.store.order_aggregate_rows import OrderRows, OrderSave, fulfilment_of
from service.store.order_changes_pg import write_fixed
from service.store.order_changes_sqlite import update_each
from service.store.order_reads import read_order
from service.store.order_rows import insert_core, new_order_rows


class OrderRepository:
    """Orders of one transaction; remembers the rows of each order it read, for `save`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.backlog = Backlog(session)
        self._rows: dict[str, OrderRows] = {}

    def get(self, order_id: str, lock: bool = False) -> Order | None:
        """The order and everything under it (its row locked when asked), read as plain rows
        (always afresh: another writer may have changed them while this one waited)."""
        return self._read(order_id, False, lock)

    def get_of_fulfilment(self, fulfilment_id: str, lock: bool = False) -> Order | None:
        """The order a fulfilment belongs to, as `get` reads it (found and locked at once)."""
        return self._read(fulfilment_id, True, lock)

    def _read(self, key: str, of_fulfilment: bool, lock: bool) -> Order | None:
        found = read_order(self.session, key, of_fulfilment, lock)
        if found is None:
            return None
        rows, received = found
        self._rows[rows.row["id"]] = rows
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
        """Write back what the aggregate changed, its new events and settlement records (on
        PostgreSQL the changed rows in one fixed statement, `order_changes_pg`)."""
        self.write(self.unsaved(order))

    def unsaved(self, order: Order) -> OrderSave:
        """What `save` would write now, for `write` or for a statement that writes it with
        others (PostgreSQL: a re-route's allocation, `PositionRepository.allocate_if_unchanged`);
        once written so, call `saved`. Lines the aggregate gained (an edit) are inserted now."""
        rows = self._rows[order.id]
        before = open_lines((f["location_id"], f["status"],
                             len(rows.children.fulfilment_lines[f["id"]]))
                            for f in rows.children.fulfilments)
        self._add_lines(order, rows)
        line_ids = {line.line_no: line.id for line in order.lines}
        known = rows.children.fulfilment_lines
        new = fulfilment_rows.new_fulfilments(
            order.id, [f for f in order.fulfilments if f.id not in known], line_ids)
        after = open_lines((f.location_id, f.status, len(f.lines)) for f in order.fulfilments)
        settlements = [{"kind": s.kind, "order_id": order.id,
                        "order_line_id": line_ids[s.line_no], "sku": s.sku,
                        "location_id": s.location_id, "quantity": s.quantity,
                        "amount": s.amount, "created_at": s.at} for s in order.settlements]
        moved = {loc: after[loc] - before[loc] for loc in after.keys() | before}
        return OrderSave(order, rows.changes(order), new, list(order.events), settlements,
                         {loc: n for loc, n in moved.items() if n})

    def write(self, save: OrderSave) -> None:
        """Write what `unsaved` found: new fulfilments, changed rows, events, settlements, the
        kept backlog's moves."""
        order = save.order
        added, events_written = fulfilment_rows.insert_new(self.session, save.new, save.events)
        if save.changed:
            written = (write_fixed(self.session, save.changed) if self._postgres()
                       else update_each(self.session, save.changed))
            if written != len(save.changed):
                raise StaleDataError(f"{len(save.changed) - written} of an order's rows were "
                                     "not found")
        connection = self.session.connection()
        if save.events and not events_written:
            connection.execute(insert(Event.__table__), [{
                "aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id,
                "type": e.type, "payload": e.payload, "created_at": e.at, "attempts": 0}
                for e in save.events])
        if save.settlements:
            connection.execute(insert(SettlementRecord.__table__), save.settlements)
        self._remember(order, added)
        self.backlog.move(save.backlog)

    def saved(self, save: OrderSave, line_ids: list[tuple[int, str, int]]) -> None:
        """`save` was written by another statement, which returned the new fulfilment lines'
        (id, fulfilment_id, order_line_id): remember them as `write` does."""
        self._remember(save.order, save.new.stored(line_ids))
        self.backlog.forget()

    def _remember(self, order: Order, added: list[tuple[dict[str, Any], list[Any]]]) -> None:
        """The order's rows as written: new fulfilments kept (a later save updates them), its
        events and settlements out; what the use case added to the session meanwhile
        flushed, as before."""
        rows = self._rows[order.id]
        for row, line_rows in added:
            rows.children.fulfilments.append(row)
            rows.children.fulfilment_lines[row["id"]] = line_rows
        order.events.clear()
        order.settlements.clear()
        self.session.flush()

    def _add_lines(self, order: Order, rows: OrderRows) -> None:
        """Insert the lines the aggregate gained (an edit), setting their storage ids."""
        table = OrderLineRow.__table__
        for line in (line for line in order.lines if line.id is None):
            values = {"order_id": order.id, "line_no": line.line_no, "sku": line.sku,
                      "quantity": line.quantity, "unit_price": line.unit_price,
                      "quantity_cancelled": line.cancelled,
                      "quantity_backordered": line.backordered}
            line.id = self.session.execute(insert(table).returning(table.c.id),
                                           values).scalar_one()
            rows.line_nos[line.id] = line.line_no
            rows.children.lines.append({**values, "id": line.id})

    def unaccepted_before(self, created_before: datetime, limit: int
                          ) -> list[tuple[str, str, datetime]]:
        """(id, location, created_at) of fulfilments still `created` since before a time."""
        return fulfilment_rows.unaccepted_before(self.session, created_before, limit)

    def queue(self, location_id: str, statuses: Sequence[str], after: str | None, limit: int
              ) -> list[Queued] | None:
        """A page of a location's fulfilments in these statuses, oldest first, after the
        fulfilment `after` (None when `after` is no fulfilment of the location)."""
        query = (select(*FulfilmentRow.__table__.c, OrderRow.ship_to.label("order_ship_to"))
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
        found = self.session.execute(query).mappings().all()
        lines = self._lines_of([f["id"] for f in found])
        line_nos = self._line_numbers({r["order_line_id"] for rows in lines.values()
                                       for r in rows})
        return [Queued(f["order_id"], f["order_ship_to"] or {},
                       fulfilment_of(f, lines.get(f["id"], []), line_nos)) for f in found]

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

    def _lines_of(self, ids: list[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {fid: [] for fid in ids}
        if ids:
            table = FulfilmentLineRow.__table__
            query = select(table).where(table.c.fulfilment_id.in_(ids)).order_by(table.c.id)
            for row in self.session.execute(query).mappings():
                out[row["fulfilment_id"]].append(row)
        return out


@dataclass(frozen=True)
class Queued:
    """A fulfilment in a location's work queue, with its order's id and ship-to."""

    order_id: str
    ship_to: dict[str, Any]
    fulfilment: Fulfilment
