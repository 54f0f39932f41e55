"""Apply one feed payload (a file or an HTTP body) and record the run.

Stock: the rows, the run record and the payload's `feed_files` row commit in one transaction,
so a crash mid-file leaves the previous stock and the file still new. Master data goes
through the all-or-nothing upserts (their own transaction; re-applying an upsert changes
nothing, so a crash before the file is remembered is harmless).

Outcomes: `ok`; `refused` when the content itself is rejected (a snapshot safety limit,
invalid master data, an unreadable file): its checksum stays in the run record and the same
content is not tried again, a corrected file is; `failed` when the run could not finish
(a database error, a crash): nothing is remembered and the next run retries.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from service.errors import ValidationFailed
from service.feeds.readers import Batch, FeedFormatError, Progress, read_batch
from service.feeds.sources import Payload
from service.feeds.spec import FeedSpec
from service.feeds.stock_rows import RowError, StockRow, parse_time
from service.services.inventory import runs, snapshot_copy
from service.services.inventory.deltas import apply_deltas, unknown_rows
from service.services.inventory.report import IngestReport, SnapshotLimitBreached
from service.services.inventory.snapshots import apply_snapshot
from service.services.masterdata import upserts
from service.store.errors import DuplicateRow
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
REPORT_KINDS = {"stock_snapshot": "snapshot", "stock_delta": "delta"}


class AlreadyApplied(Exception):
    """Another process applied the same content first (the feed_files row exists)."""


def seen(ctx: Context, feed: str, checksum: str, retry_refused: bool = False) -> bool:
    """Whether this content was applied, or refused for its content, by this feed before."""
    with ctx.reading() as uow:
        return uow.feeds.seen(feed, checksum, retry_refused)


def apply_payload(ctx: Context, spec: FeedSpec, payload: Payload,
                  progress: Progress | None = None, force: bool = False) -> dict[str, Any] | None:
    """Read, apply and record one payload; None when another process applied it first."""
    started = time.perf_counter()
    try:
        with payload.open() as stream:
            if _copy_eligible(spec):
                run = _apply_snapshot_copy(ctx, spec, payload, stream, started, force, progress)
                if run is not None:
                    return run
            batch = read_batch(stream, spec.format, progress)
        if spec.is_stock:
            return _apply_stock(ctx, spec, payload, batch, started, force)
        return _apply_master(ctx, spec, payload, batch, started)
    except AlreadyApplied:
        return None
    except FeedFormatError as exc:
        report = IngestReport(report_kind(spec), status="refused",
                              message=f"unreadable file: {exc}")
        return _record_alone(ctx, spec, payload, report, started)
    except Exception as exc:  # any crash is a failed run: nothing applied, retried next time
        log.exception("feed %s: %s failed", spec.name, payload.source)
        report = IngestReport(report_kind(spec), status="failed",
                              message=f"{type(exc).__name__}: {exc}; nothing applied")
        return _record_alone(ctx, spec, payload, report, started)


class _ReadInPython(Exception):
    """The COPY path left the file to Python: undo the claim with the transaction."""


def _copy_eligible(spec: FeedSpec) -> bool:
    return spec.kind == "stock_snapshot" and spec.format == "csv"


def _apply_snapshot_copy(ctx: Context, spec: FeedSpec, payload: Payload, stream: IO[bytes],
                         started: float, force: bool, progress: Progress | None
                         ) -> dict[str, Any] | None:
    """A CSV snapshot through snapshot_copy (PostgreSQL); None when it leaves it to Python.

    Same transaction, run record and refusal as _apply_stock; when the COPY path declines,
    the stream is back at its start and nothing (not even the claim) was kept.
    """
    as_of = payload.modified or ctx.clock.now()
    try:
        with ctx.transaction() as uow:
            claim(uow, spec.name, payload)
            uow.journal.because("snapshot", feed=spec.name, source=payload.source)
            report = snapshot_copy.apply_csv(ctx, uow, stream, location=spec.location,
                                             as_of=as_of, force=force, progress=progress)
            if report is None:
                raise _ReadInPython
            run = runs.record(uow, spec.name, report, started, payload.source,
                              payload.checksum)
            return runs.to_dict(run)
    except _ReadInPython:
        return None
    except SnapshotLimitBreached as exc:
        report = IngestReport("snapshot", status="refused", rows_read=exc.rows_read,
                              message=f"{exc}; this file is not retried, a new one is")
        report.reject(exc.errors or [])
        return _record_alone(ctx, spec, payload, report, started)


def _apply_stock(ctx: Context, spec: FeedSpec, payload: Payload, batch: Batch,
                 started: float, force: bool) -> dict[str, Any]:
    rows, errors = stock_rows(spec, payload, batch, ctx.clock.now())
    kind = report_kind(spec)
    try:
        with ctx.transaction() as uow:
            claim(uow, spec.name, payload)
            uow.journal.because(kind, feed=spec.name, source=payload.source)
            if kind == "snapshot":
                report = apply_snapshot(ctx, uow, rows, errors, batch.rows_read, force)
            else:
                report = apply_deltas(ctx, uow, rows, errors, batch.rows_read)
            run = runs.record(uow, spec.name, report, started, payload.source,
                              payload.checksum)
            return runs.to_dict(run)
    except SnapshotLimitBreached as exc:
        report = IngestReport(kind, status="refused", rows_read=batch.rows_read,
                              message=f"{exc}; this file is not retried, a new one is")
        report.reject(errors + unknown_rows(ctx, rows))
        return _record_alone(ctx, spec, payload, report, started)


def stock_rows(spec: FeedSpec, payload: Payload, batch: Batch, now: datetime
               ) -> tuple[list[StockRow], list[RowError]]:
    """Typed stock rows of a batch; as_of: row, else file envelope, else file time, else now."""
    as_of = payload.modified or now
    if batch.envelope.get("as_of") is not None:
        as_of = parse_time(batch.envelope["as_of"])
        if as_of is None:
            raise FeedFormatError("the file's as_of is not an ISO-8601 time")
    location = batch.envelope.get("location") or spec.location
    return batch.stock_rows(location, as_of, allow_adjust=spec.kind == "stock_delta")


def claim(uow: UnitOfWork, feed: str, payload: Payload) -> None:
    """Insert the payload's feed_files row first, so a concurrent run of it waits, then skips."""
    try:
        uow.feeds.claim(feed, payload.checksum, payload.source, uow.clock.now())
    except DuplicateRow as exc:
        raise AlreadyApplied(payload.checksum) from exc


def _apply_master(ctx: Context, spec: FeedSpec, payload: Payload, batch: Batch,
                  started: float) -> dict[str, Any]:
    report = IngestReport(spec.kind, rows_read=batch.rows_read)
    if batch.errors:
        report.status, report.message = "refused", (
            f"{len(batch.errors)} unreadable line(s); nothing was written")
        report.reject(batch.errors)
        return _record_alone(ctx, spec, payload, report, started)
    upsert = upserts.upsert_products if spec.kind == "products" else (
        upserts.upsert_locations)
    try:
        result = upsert(ctx, batch.items, from_text=spec.format == "csv")
    except ValidationFailed as exc:
        report.status, report.message = "refused", exc.detail
        report.reject(_problem_errors(exc.problems, batch.lines))
        return _record_alone(ctx, spec, payload, report, started)
    report.applied = result["created"] + result["updated"]
    report.message = f"{result['created']} created, {result['updated']} updated"
    with ctx.transaction() as uow:
        claim(uow, spec.name, payload)
        run = runs.record(uow, spec.name, report, started, payload.source, payload.checksum)
        return runs.to_dict(run)


def _problem_errors(problems: list[dict[str, Any]], lines: list[int]) -> list[RowError]:
    """Validation problems (JSON pointers /index/field) as row errors with file lines."""
    errors = []
    for item in problems:
        parts = item["pointer"].split("/")
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        line = lines[index] if index is not None and index < len(lines) else 0
        field = "/".join(parts[2:])
        errors.append(RowError(line, f"{field}: {item['message']}" if field else item["message"]))
    return errors


def report_kind(spec: FeedSpec) -> str:
    """The run's kind: snapshot or delta (as pushes record them), products or locations."""
    return REPORT_KINDS.get(spec.kind, spec.kind)


def _record_alone(ctx: Context, spec: FeedSpec, payload: Payload, report: IngestReport,
                  started: float) -> dict[str, Any]:
    return runs.record_alone(ctx, spec.name, report, started, payload.source,
                             payload.checksum)
