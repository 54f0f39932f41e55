"""Feed runs: every push and scheduled feed leaves a record of what it did."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import metrics
from service.context import Context
from service.services.inventory import IngestReport
from service.store.models import FeedRun, utcnow

MAX_STORED_ERRORS = 1000


def record(session: Session, feed: str, report: IngestReport, started: float,
           source: str = "", checksum: str | None = None) -> FeedRun:
    """Add the run's record to the session (the caller's transaction decides its fate).

    started is the time.perf_counter() reading when the work began; the run's wall-clock
    start is the finish less the duration measured on that monotonic clock.
    """
    seconds = time.perf_counter() - started
    finished_at = utcnow()
    run = FeedRun(
        feed=feed, kind=report.kind, source=source[:1000], checksum=checksum,
        status=report.status, rows_read=report.rows_read, applied=report.applied,
        unchanged=report.unchanged, stale=report.stale, rejected=report.rejected,
        errors=report.errors[:MAX_STORED_ERRORS], message=(report.message or "")[:1000] or None,
        started_at=finished_at - timedelta(seconds=seconds), finished_at=finished_at,
        duration_ms=int(seconds * 1000),
    )
    session.add(run)
    for outcome in ("applied", "unchanged", "stale", "rejected"):
        metrics.FEED_ROWS.labels(feed, outcome).inc(getattr(report, outcome))
    return run


def record_alone(ctx: Context, feed: str, report: IngestReport, started: float,
                 source: str = "", checksum: str | None = None) -> dict[str, Any]:
    """Record a run in its own transaction (after the work's transaction rolled back)."""
    with ctx.sessions.begin() as session:
        return to_dict(record(session, feed, report, started, source, checksum))


def recent(ctx: Context, feed: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest runs, of one feed or of all."""
    query = select(FeedRun).order_by(FeedRun.id.desc()).limit(min(max(limit, 1), 500))
    if feed:
        query = query.where(FeedRun.feed == feed)
    with ctx.sessions() as session:
        return [to_dict(run) for run in session.scalars(query)]


def to_dict(run: FeedRun) -> dict[str, Any]:
    return {
        "id": run.id, "feed": run.feed, "kind": run.kind, "source": run.source,
        "status": run.status, "rows_read": run.rows_read, "applied": run.applied,
        "unchanged": run.unchanged, "stale": run.stale, "rejected": run.rejected,
        "errors": run.errors, "message": run.message,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms,
    }
