"""Ingestion runs: every push and every feed payload leaves a record of what it did."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from service import metrics
from service.services.inventory.report import IngestReport
from service.store.models import FeedRun
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

MAX_STORED_ERRORS = 1000


def record(uow: UnitOfWork, feed: str, report: IngestReport, started: float,
           source: str = "", checksum: str | None = None) -> FeedRun:
    """Add the run's record to the caller's transaction (which decides its fate).

    started is the time.perf_counter() reading when the work began; the run's wall-clock
    start is the finish less the duration measured on that monotonic clock.
    """
    seconds = time.perf_counter() - started
    finished_at = uow.clock.now()
    run = uow.feeds.add_run(
        feed=feed, kind=report.kind, source=source[:1000], checksum=checksum,
        status=report.status, rows_read=report.rows_read, applied=report.applied,
        unchanged=report.unchanged, stale=report.stale, rejected=report.rejected,
        errors=report.errors[:MAX_STORED_ERRORS], message=(report.message or "")[:1000] or None,
        started_at=finished_at - timedelta(seconds=seconds), finished_at=finished_at,
        duration_ms=int(seconds * 1000))
    for outcome in ("applied", "unchanged", "stale", "rejected"):
        metrics.FEED_ROWS.labels(feed, outcome).inc(getattr(report, outcome))
    return run


def record_alone(ctx: Context, feed: str, report: IngestReport, started: float,
                 source: str = "", checksum: str | None = None) -> dict[str, Any]:
    """Record a run in its own transaction (after the work's transaction rolled back)."""
    with ctx.transaction() as uow:
        return to_dict(record(uow, feed, report, started, source, checksum))


def recent(ctx: Context, feed: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs, of one feed or of all."""
    with ctx.reading() as uow:
        return [to_dict(run) for run in uow.feeds.recent(feed, min(max(limit, 1), 500))]


def to_dict(run: FeedRun) -> dict[str, Any]:
    """A run record as the API and the CLI show it."""
    return {
        "id": run.id, "feed": run.feed, "kind": run.kind, "source": run.source,
        "status": run.status, "rows_read": run.rows_read, "applied": run.applied,
        "unchanged": run.unchanged, "stale": run.stale, "rejected": run.rejected,
        "errors": run.errors, "message": run.message,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms,
    }
