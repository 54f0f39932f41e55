"""Configured feeds: run one now (CLI, scheduler), list them with their last run.

A folder feed applies each new file once, in name order, remembered by checksum; it stops at
the first failed file so the rest keep their order for the next run. A URL feed sends a
conditional GET (the ETag and Last-Modified of the last body it processed, kept per process)
and applies a body only when its checksum is new, so an unchanged body is never applied twice
even by another process or after a restart.

Progress (the CLI's bars): each payload applied gets a meter from the caller's FileProgress,
sized in bytes; its stream is wrapped so every read of it counts, whichever path reads it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from service.feeds import sources
from service.feeds.metering import CountedStream, Meter
from service.feeds.sources import Payload
from service.feeds.spec import FeedSpec, feed_specs, find_feed
from service.services.feeds.applying import apply_payload, report_kind, seen
from service.services.inventory import runs
from service.services.inventory.report import IngestReport

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
FileProgress = Callable[[str, int | None], AbstractContextManager[Meter]]
"""Given a payload's source and size in bytes (None if unknown), the meter its reading
reports bytes and rows to, entered while the payload is applied."""


def configured(ctx: Context) -> list[FeedSpec]:
    """Every feed in the configuration."""
    return feed_specs(ctx.settings)


def run_feed(ctx: Context, name: str, progress: FileProgress | None = None,
             force: bool = False) -> list[dict[str, Any]]:
    """Run the feed called name now; one run record per file or body processed.

    force retries content refused before and applies snapshots past the zeroing limit;
    progress gives each payload applied its meter (see FileProgress).
    """
    spec = find_feed(ctx.settings, name)
    if spec.is_http:
        return _run_url(ctx, spec, progress, force)
    return _run_directory(ctx, spec, progress, force)


def run_scheduled(ctx: Context, name: str) -> list[dict[str, Any]]:
    """The scheduler's job for one feed: run it and log what happened."""
    done = run_feed(ctx, name)
    for run in done:
        log.info("feed %s: %s %s (%s applied, %s rejected)", name, run["source"],
                 run["status"], run["applied"], run["rejected"])
    return done


def _run_directory(ctx: Context, spec: FeedSpec, progress: FileProgress | None,
                   force: bool) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        payloads = list(sources.directory_payloads(spec.source))
    except sources.FeedSourceFailed as exc:
        return [_source_failed(ctx, spec, exc, started)]
    for payload in payloads:
        if seen(ctx, spec.name, payload.checksum, retry_refused=force):
            continue
        run = _apply(ctx, spec, payload, progress, force)
        if run is None:
            continue
        done.append(run)
        if run["status"] == "failed":
            break
    return done


def _run_url(ctx: Context, spec: FeedSpec, progress: FileProgress | None,
             force: bool) -> list[dict[str, Any]]:
    cache = ctx.feed_validators
    started = time.perf_counter()
    try:
        payload = sources.fetch_url(spec.source, None if force else cache.get(spec.name))
    except sources.FeedSourceFailed as exc:
        return [_source_failed(ctx, spec, exc, started)]
    if payload is None:
        return []  # 304 Not Modified
    try:
        if seen(ctx, spec.name, payload.checksum, retry_refused=force):
            run = None
        else:
            run = _apply(ctx, spec, payload, progress, force)
    finally:
        payload.release()
    if run is None or run["status"] != "failed":
        cache[spec.name] = payload.validators
    return [run] if run else []


def _apply(ctx: Context, spec: FeedSpec, payload: Payload, progress: FileProgress | None,
           force: bool) -> dict[str, Any] | None:
    """apply_payload, with the payload's bytes and rows reported to a meter of its own."""
    if progress is None:
        return apply_payload(ctx, spec, payload, None, force)
    with progress(payload.source, payload.size) as meter:
        return apply_payload(ctx, spec, _metered(payload, meter), meter.add_rows, force)


def _metered(payload: Payload, meter: Meter) -> Payload:
    """The payload, its stream counting the bytes read from it into meter."""
    opened = payload.open
    return replace(payload, open=lambda: CountedStream(opened(), meter.advance))


def _source_failed(ctx: Context, spec: FeedSpec, exc: Exception, started: float
                   ) -> dict[str, Any]:
    report = IngestReport(report_kind(spec), status="failed", message=str(exc))
    return runs.record_alone(ctx, spec.name, report, started, spec.source)


def list_feeds(ctx: Context) -> list[dict[str, Any]]:
    """Configured feeds, each with its schedule and its last run (or None)."""
    with ctx.reading() as uow:
        return [spec.to_dict() | {"last_run": runs.to_dict(last) if (last := uow.feeds.last_run(
            spec.name)) else None} for spec in configured(ctx)]
