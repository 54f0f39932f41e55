"""Settlement records for the ERP: export batches, the watermark, and pages by id.

Exporters serialise on the watermark row (an UPDATE locks it on PostgreSQL; SQLite's
BEGIN IMMEDIATE already lets one writer in). On PostgreSQL a batch is also cut behind a
SHARE lock on `settlement_records`: it waits for the transactions writing records to
commit, so no record with a smaller id can commit after the batch was cut and be skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, func, literal, select, text, update
from sqlalchemy.orm import Session

from service.clock import Clock
from service.domain.settlements import Batch
from service.store.models import (
    Event,
    OrderRow,
    SettlementExport,
    SettlementRecord,
    SettlementWatermark,
)
from service.store.upsert import insert_for

EXPORTER = "erp"
_RECORD_COLUMNS = (SettlementRecord.id, SettlementRecord.kind, SettlementRecord.order_id,
                   OrderRow.order_ref, OrderRow.channel, SettlementRecord.order_line_id,
                   SettlementRecord.sku, SettlementRecord.quantity, SettlementRecord.amount,
                   SettlementRecord.location_id, SettlementRecord.disposition,
                   SettlementRecord.created_at)


class SettlementRepository:
    """Settlement exports of one transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def lock_watermark(self) -> int:
        """Lock the exporter's watermark row (made on first use); the last id exported."""
        table = SettlementWatermark.__table__
        now = self.clock.now()
        self.session.execute(insert_for(self.session, table).values(
            name=EXPORTER, last_id=0, updated_at=now).on_conflict_do_nothing())
        return self.session.execute(
            update(SettlementWatermark).where(SettlementWatermark.name == EXPORTER)
            .values(updated_at=now).returning(SettlementWatermark.last_id)).scalar_one()

    def settle_horizon(self) -> None:
        """Wait until every transaction writing settlement records has committed (and keep
        new ones out until this transaction ends): the ids read next have no gaps to fill."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("LOCK TABLE settlement_records IN SHARE MODE"))

    def pending(self) -> Batch | None:
        """The oldest batch cut but not committed (a crashed or overtaken run's)."""
        row = self.session.scalars(select(SettlementExport).where(
            SettlementExport.status == "pending").order_by(SettlementExport.id).limit(1)).first()
        return None if row is None else _batch(row)

    def next_range(self, after: int, limit: int) -> tuple[int, int, int] | None:
        """(first id, last id, count) of up to `limit` records after `after`, or None."""
        ids = select(SettlementRecord.id).where(SettlementRecord.id > after).order_by(
            SettlementRecord.id).limit(limit).subquery()
        first, last, count = self.session.execute(
            select(func.min(ids.c.id), func.max(ids.c.id), func.count(ids.c.id))).one()
        return None if count == 0 else (first, last, count)

    def add(self, first_id: int, last_id: int, records: int, file: str, fmt: str,
            currency: str | None, claim: str) -> Batch:
        """Cut a new pending batch, claimed by `claim`."""
        row = SettlementExport(first_id=first_id, last_id=last_id, records=records, file=file,
                               format=fmt, currency=currency, status="pending", claim=claim,
                               created_at=self.clock.now())
        self.session.add(row)
        self.session.flush()
        return _batch(row)

    def claim(self, batch_id: int, claim: str) -> None:
        """Take a pending batch over: the run holding `claim` is the one that may finish it."""
        self.session.execute(update(SettlementExport).where(
            SettlementExport.id == batch_id).values(claim=claim))

    def holds(self, batch_id: int, claim: str) -> bool:
        """Whether the batch is still pending under this claim (read after lock_watermark)."""
        row = self.session.get(SettlementExport, batch_id)
        return row is not None and row.status == "pending" and row.claim == claim

    def records(self, first_id: int, last_id: int) -> list[dict[str, Any]]:
        """The batch's records in id order, with their order's reference and channel."""
        rows = self.session.execute(
            select(*_RECORD_COLUMNS).join(OrderRow, OrderRow.id == SettlementRecord.order_id)
            .where(SettlementRecord.id.between(first_id, last_id))
            .order_by(SettlementRecord.id))
        return [dict(row._mapping) for row in rows]

    def finish(self, batch: Batch, payload: dict[str, Any]) -> datetime:
        """Commit the batch: its records exported, the watermark past them, the batch done,
        and a `settlement.exported` event in the outbox."""
        now = self.clock.now()
        self.session.execute(update(SettlementRecord).where(
            SettlementRecord.id.between(batch.first_id, batch.last_id)).values(
            exported_at=now, export_batch=str(batch.id)))
        self.session.execute(update(SettlementWatermark).where(
            SettlementWatermark.name == EXPORTER).values(last_id=batch.last_id, updated_at=now))
        self.session.execute(update(SettlementExport).where(
            SettlementExport.id == batch.id).values(status="done", done_at=now))
        self.session.add(Event(aggregate_type="settlement", aggregate_id=str(batch.id),
                               type="settlement.exported", payload=payload, created_at=now,
                               attempts=0))
        return now

    def page(self, since: int, limit: int) -> list[dict[str, Any]]:
        """Records after id `since` in id order, each with its batch's file when exported."""
        rows = self.session.execute(
            select(*_RECORD_COLUMNS, SettlementRecord.exported_at, SettlementExport.id.label(
                "batch"), SettlementExport.file)
            .join(OrderRow, OrderRow.id == SettlementRecord.order_id)
            .outerjoin(SettlementExport, (SettlementExport.status == "done") & (
                SettlementRecord.id.between(SettlementExport.first_id, SettlementExport.last_id)))
            # a cursor past the 32-bit ids is compared as a 64-bit number, not cast to theirs
            .where(SettlementRecord.id > literal(since, BigInteger))
            .order_by(SettlementRecord.id).limit(limit))
        return [dict(row._mapping) for row in rows]

    def watermark(self) -> int:
        """The last record id exported (0 before the first export)."""
        return self.session.scalar(select(SettlementWatermark.last_id).where(
            SettlementWatermark.name == EXPORTER)) or 0


def _batch(row: SettlementExport) -> Batch:
    return Batch(id=row.id, first_id=row.first_id, last_id=row.last_id, records=row.records,
                 file=row.file, format=row.format, currency=row.currency, status=row.status,
                 claim=row.claim)
