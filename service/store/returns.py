"""The return repository: returns as `service.domain.returns.Return`, stored as rows.

`add` writes a new return, its lines and its outbox events; `get` reads one with its receipts
(its row locked when asked); `save` writes back the lines' received units, the new receipts
with their lines, one `returned` settlement record per received line, and the new events.
Writers lock the order first (`OrderRepository.get(lock=True)`): one writer per order's
returns at a time, so two returns can never both take the last returnable unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session

from service.domain.orders import DomainEvent
from service.domain.returns import Receipt, ReceivedLine, Return, ReturnLine
from service.store.models import (
    Event,
    OrderLineRow,
    Product,
    ReturnLineRow,
    ReturnReceiptLineRow,
    ReturnReceiptRow,
    ReturnRow,
    SettlementRecord,
)

_R = ReturnRow.__table__
_L = ReturnLineRow.__table__
_P = ReturnReceiptRow.__table__
_PL = ReturnReceiptLineRow.__table__


class ReturnRepository:
    """Returns of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, ret: Return, requested_by: str, key: str | None, request_hash: str | None,
            response: dict[str, Any]) -> None:
        """Write a new return with its lines and events (`response` for key replays)."""
        connection = self.session.connection()
        connection.execute(insert(_R), [{
            "id": ret.id, "order_id": ret.order_id, "channel": ret.channel,
            "status": ret.status, "requested_by": requested_by, "idempotency_key": key,
            "request_hash": request_hash, "response": response, "created_at": ret.created_at,
            "updated_at": ret.updated_at}])
        for line in ret.lines:
            line.id = connection.execute(insert(_L).values(
                return_id=ret.id, order_line_id=line.order_line_id, sku=line.sku,
                quantity=line.quantity, quantity_received=line.received,
                reason=line.reason).returning(_L.c.id)).scalar_one()
        self._write_events(ret.events)

    def get(self, return_id: str, lock: bool = False) -> Return | None:
        """The return, its lines and its receipts (its row locked for update when asked)."""
        query = select(_R).where(_R.c.id == return_id)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        if row is None:
            return None
        lines = self.session.execute(
            select(_L).where(_L.c.return_id == return_id).order_by(_L.c.id)).all()
        return Return(
            id=row.id, order_id=row.order_id, channel=row.channel,
            lines=[ReturnLine(ln.sku, ln.order_line_id, ln.quantity, ln.quantity_received,
                              ln.reason, ln.id) for ln in lines],
            created_at=row.created_at, updated_at=row.updated_at,
            receipts=self._receipts(return_id))

    def save(self, ret: Return, key: str | None = None, request_hash: str | None = None,
             response: dict[str, Any] | None = None) -> None:
        """Write back the lines' received units and status, new receipts (with the
        Idempotency-Key, body hash and answer of the request that made them), their settlement
        records (kind `returned`) and the new events."""
        self.session.execute(update(_R).where(_R.c.id == ret.id).values(
            status=ret.status, updated_at=ret.updated_at))
        self.session.connection().execute(
            update(_L).where(_L.c.id == bindparam("line_id")).values(
                quantity_received=bindparam("received")),
            [{"line_id": ln.id, "received": ln.received} for ln in ret.lines])
        line_ids = {ln.sku: ln.id for ln in ret.lines}
        order_lines = {ln.sku: ln.order_line_id for ln in ret.lines}
        for receipt in (r for r in ret.receipts if not r.stored):
            self._add_receipt(ret.id, receipt, line_ids,
                              {"idempotency_key": key, "request_hash": request_hash,
                               "response": response})
            self.session.connection().execute(insert(SettlementRecord.__table__), [
                {"kind": "returned", "order_id": ret.order_id, "order_line_id": order_lines[ln.sku],
                 "sku": ln.sku, "location_id": receipt.location_id, "quantity": ln.quantity,
                 "amount": ln.refund, "disposition": ln.disposition,
                 "created_at": receipt.received_at} for ln in receipt.lines])
            receipt.stored = True
        self._write_events(ret.events)

    @staticmethod
    def received_by_line(order_id: str) -> Any:
        """(order_line_id, received) of the order's returns, as a subquery to join lines to
        (what `received_per_line` reads, without a statement of its own)."""
        return (select(_L.c.order_line_id, func.sum(_L.c.quantity_received).label("received"))
                .join(_R, _R.c.id == _L.c.return_id).where(_R.c.order_id == order_id)
                .group_by(_L.c.order_line_id).subquery())

    def in_returns(self, order_id: str) -> dict[int, int]:
        """Units of each order line (by id) in the order's returns, open or received."""
        return {line: int(units) for line, units, _received in self._per_line(order_id)}

    def received_per_line(self, order_id: str) -> dict[int, int]:
        """Units of each order line (by id) received back by the order's returns."""
        return {line: int(received) for line, _units, received in self._per_line(order_id)
                if received}

    def find_by_key(self, order_id: str, key: str) -> tuple[str | None, dict[str, Any]] | None:
        """(request hash, 201 body) of the order's return opened with this Idempotency-Key."""
        row = self.session.execute(
            select(_R.c.request_hash, _R.c.response)
            .where(_R.c.order_id == order_id, _R.c.idempotency_key == key)).first()
        return None if row is None else (row[0], row[1] or {})

    def find_receipt_by_key(self, return_id: str, key: str
                            ) -> tuple[str | None, dict[str, Any]] | None:
        """(request hash, answer) of the return's receipt made with this Idempotency-Key."""
        row = self.session.execute(
            select(_P.c.request_hash, _P.c.response)
            .where(_P.c.return_id == return_id, _P.c.idempotency_key == key)).first()
        return None if row is None else (row[0], row[1] or {})

    def received_at(self, return_id: str, location_id: str) -> bool:
        """Whether the location received some of this return."""
        return bool(self.session.scalar(select(exists().where(
            _P.c.location_id == location_id, _P.c.return_id == return_id))))

    def vendors(self, skus: Iterable[str]) -> dict[str, str | None]:
        """The vendor of each of these products (None: the product names none)."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        return dict(self.session.execute(
            select(Product.sku, Product.vendor).where(Product.sku.in_(wanted))).all())

    def _per_line(self, order_id: str) -> list[Any]:
        return list(self.session.execute(
            select(_L.c.order_line_id, func.sum(_L.c.quantity), func.sum(_L.c.quantity_received))
            .join(_R, _R.c.id == _L.c.return_id).where(_R.c.order_id == order_id)
            .group_by(_L.c.order_line_id)))

    def _receipts(self, return_id: str) -> list[Receipt]:
        receipts: dict[str, Receipt] = {}
        query = (select(_P.c.id, _P.c.location_id, _P.c.ruleset, _P.c.received_by,
                        _P.c.received_at, _PL.c.sku, _PL.c.quantity, _PL.c.condition, _PL.c.reason,
                        _PL.c.disposition, _PL.c.rule, _PL.c.vendor, _PL.c.return_line_id)
                 .join(_PL, _PL.c.receipt_id == _P.c.id).where(_P.c.return_id == return_id)
                 .order_by(_P.c.received_at, _P.c.id, _PL.c.id))
        prices = self._unit_prices(return_id)
        for r in self.session.execute(query):
            receipt = receipts.setdefault(r.id, Receipt(
                r.id, r.location_id, r.ruleset, r.received_by, r.received_at, [], stored=True))
            receipt.lines.append(ReceivedLine(
                r.sku, r.quantity, r.condition, r.reason, r.disposition, r.rule,
                prices[r.return_line_id] * r.quantity, r.vendor))
        return list(receipts.values())

    def _unit_prices(self, return_id: str) -> dict[int, Any]:
        return dict(self.session.execute(
            select(_L.c.id, OrderLineRow.unit_price)
            .join(OrderLineRow, OrderLineRow.id == _L.c.order_line_id)
            .where(_L.c.return_id == return_id)).all())

    def _add_receipt(self, return_id: str, receipt: Receipt, line_ids: dict[str, int | None],
                     request: dict[str, Any]) -> None:
        connection = self.session.connection()
        connection.execute(insert(_P), [{
            "id": receipt.id, "return_id": return_id, "location_id": receipt.location_id,
            "ruleset": receipt.ruleset, "received_by": receipt.received_by,
            "received_at": receipt.received_at, **request}])
        connection.execute(insert(_PL), [
            {"receipt_id": receipt.id, "return_line_id": line_ids[ln.sku], "sku": ln.sku,
             "quantity": ln.quantity, "condition": ln.condition, "reason": ln.reason,
             "disposition": ln.disposition, "rule": ln.rule, "vendor": ln.vendor}
            for ln in receipt.lines])

    def _write_events(self, events: list[DomainEvent]) -> None:
        if events:
            self.session.connection().execute(insert(Event.__table__), [
                {"aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id,
                 "type": e.type, "payload": e.payload, "created_at": e.at, "attempts": 0}
                for e in events])
        events.clear()
