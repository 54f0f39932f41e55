"""The transfer repository: transfers as `service.domain.transfers.Transfer`, stored as rows.

`add` writes a new transfer, its lines and its outbox events; `get` reads one (its row locked
when asked: the lock every writer of a transfer takes before its positions); `save` writes
back what the aggregate changed, with its new events.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from service.domain.transfers import IN_TRANSIT, Transfer, TransferLine
from service.store.models import Event, TransferLineRow, TransferRow

_T = TransferRow.__table__
_L = TransferLineRow.__table__
_UNITS = _L.c.quantity_shipped - _L.c.quantity_received - _L.c.quantity_missing  # on the road
CHUNK = 900
Arrivals = Mapping[tuple[str, str], tuple[tuple[datetime, int], ...]]


def arriving_units(windows: Sequence[float], now: datetime) -> Any:
    """A subquery per (location_id, sku) in transit: column `w<i>` holds the units expected
    within windows[i] hours of now (the kept ATS recompute joins it to positions)."""
    columns = [func.sum(case((_T.c.expected_at <= now + timedelta(hours=hours), _UNITS),
                             else_=0)).label(f"w{i}") for i, hours in enumerate(windows)]
    return (select(_T.c.to_location_id.label("location_id"), _L.c.sku, *columns)
            .join(_T, _T.c.id == _L.c.transfer_id)
            .where(_T.c.status.in_(IN_TRANSIT), _T.c.expected_at.is_not(None))
            .group_by(_T.c.to_location_id, _L.c.sku).subquery("arriving"))


class TransferRepository:
    """Transfers of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, transfer: Transfer, requested_by: str, key: str | None,
            request_hash: str | None, response: dict[str, Any]) -> None:
        """Write a new transfer with its lines and events (`response` for key replays)."""
        connection = self.session.connection()
        connection.execute(insert(_T), [{
            "id": transfer.id, "from_location_id": transfer.source,
            "to_location_id": transfer.destination, "status": transfer.status,
            "reference": transfer.reference, "tracking": transfer.tracking,
            "reason": transfer.reason, "requested_by": requested_by, "idempotency_key": key,
            "request_hash": request_hash, "response": response,
            "created_at": transfer.created_at, "updated_at": transfer.updated_at,
            "expected_at": transfer.expected_at}])
        connection.execute(insert(_L), [
            {"transfer_id": transfer.id, "sku": ln.sku, "quantity": ln.quantity,
             "quantity_shipped": 0, "quantity_received": 0, "quantity_missing": 0,
             "quantity_cancelled": 0} for ln in transfer.lines])
        self._write_events(transfer)

    def get(self, transfer_id: str, lock: bool = False) -> Transfer | None:
        """The transfer and its lines (its row locked for update when asked)."""
        query = select(_T).where(_T.c.id == transfer_id)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        if row is None:
            return None
        lines = self.session.execute(
            select(_L).where(_L.c.transfer_id == transfer_id).order_by(_L.c.id)).all()
        return Transfer(
            id=row.id, source=row.from_location_id, destination=row.to_location_id,
            lines=[TransferLine(ln.sku, ln.quantity, ln.quantity_shipped, ln.quantity_received,
                                ln.quantity_missing, ln.quantity_cancelled, ln.id)
                   for ln in lines],
            created_at=row.created_at, updated_at=row.updated_at, status=row.status,
            reference=row.reference, tracking=row.tracking, reason=row.reason,
            shipped_at=row.shipped_at, closed_at=row.closed_at, expected_at=row.expected_at)

    def save(self, transfer: Transfer) -> None:
        """Write back the transfer's status, times and line quantities, and its new events."""
        self.session.execute(update(_T).where(_T.c.id == transfer.id).values(
            status=transfer.status, tracking=transfer.tracking, reason=transfer.reason,
            updated_at=transfer.updated_at, shipped_at=transfer.shipped_at,
            closed_at=transfer.closed_at, expected_at=transfer.expected_at))
        self.session.connection().execute(
            update(_L).where(_L.c.id == bindparam("line_id")).values(
                quantity_shipped=bindparam("shipped"), quantity_received=bindparam("received"),
                quantity_missing=bindparam("missing"), quantity_cancelled=bindparam("cancelled")),
            [{"line_id": ln.id, "shipped": ln.shipped, "received": ln.received,
              "missing": ln.missing, "cancelled": ln.cancelled} for ln in transfer.lines])
        self._write_events(transfer)

    def find_by_key(self, requested_by: str, key: str) -> tuple[str | None, dict[str, Any]] | None:
        """(request hash, 201 body) of the transfer this key's role created with this key."""
        row = self.session.execute(
            select(_T.c.request_hash, _T.c.response)
            .where(_T.c.requested_by == requested_by, _T.c.idempotency_key == key)).first()
        return None if row is None else (row[0], row[1] or {})

    def in_transit(self, skus: Sequence[str], location: str | None = None
                   ) -> dict[tuple[str, str], int]:
        """Units of skus shipped to each location (or one) and not yet received or missing."""
        if not skus:
            return {}
        query = (select(_T.c.to_location_id, _L.c.sku, func.sum(_UNITS))
                 .join(_T, _T.c.id == _L.c.transfer_id)
                 .where(_T.c.status.in_(IN_TRANSIT), _L.c.sku.in_(list(skus)))
                 .group_by(_T.c.to_location_id, _L.c.sku))
        if location is not None:
            query = query.where(_T.c.to_location_id == location)
        return {(loc, sku): int(n) for loc, sku, n in self.session.execute(query) if n}

    def arriving(self, keys: Collection[tuple[str, str]]) -> Arrivals:
        """Per (destination, sku) of keys: (expected_at, units) of each transfer in transit
        with a known arrival (most positions have none: an empty mapping)."""
        skus = sorted({sku for _location, sku in keys})
        query = (select(_T.c.to_location_id, _L.c.sku, _T.c.expected_at, _UNITS)
                 .join(_T, _T.c.id == _L.c.transfer_id)
                 .where(_T.c.status.in_(IN_TRANSIT), _T.c.expected_at.is_not(None)))
        if len(skus) <= CHUNK:  # a few SKUs (orders, receipts); else every arrival, filtered
            query = query.where(_L.c.sku.in_(skus))
        out: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
        wanted = set(keys)
        for location, sku, expected_at, units in self.session.execute(query):
            if units > 0 and (location, sku) in wanted:
                out.setdefault((location, sku), []).append((expected_at, int(units)))
        return {key: tuple(sorted(found)) for key, found in out.items()}

    def entering(self, windows: Sequence[float], since: datetime | None, now: datetime
                 ) -> list[str]:
        """SKUs in transit whose expected arrival entered some window (hours ahead) after
        `since` (None: ever) and by `now`."""
        if not windows:
            return []
        entered = []
        for hours in windows:
            ahead = timedelta(hours=hours)
            test = _T.c.expected_at <= now + ahead
            entered.append(test if since is None else and_(test, _T.c.expected_at > since + ahead))
        query = (select(_L.c.sku).join(_T, _T.c.id == _L.c.transfer_id)
                 .where(_T.c.status.in_(IN_TRANSIT), or_(*entered), _UNITS > 0).distinct())
        return sorted(self.session.scalars(query))

    def _write_events(self, transfer: Transfer) -> None:
        if transfer.events:
            self.session.connection().execute(insert(Event.__table__), [
                {"aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id,
                 "type": e.type, "payload": e.payload, "created_at": e.at, "attempts": 0}
                for e in transfer.events])
        transfer.events.clear()
