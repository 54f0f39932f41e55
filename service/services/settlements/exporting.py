"""Export settlement records to files for the ERP, exactly once.

A run cuts a batch (the records after the watermark, in id order) and commits it as
`pending` with a claim of its own; writes the file under a temporary name and fsyncs it; then,
in one transaction holding the watermark row, checks that its claim still holds, renames the
file to the batch's name and commits the watermark, the records' export marks, the batch as
done and a `settlement.exported` event. A run that dies before that commit leaves the batch
pending: the next run claims it and writes the same name with the same bytes (the file is
decided by the batch alone). A run overtaken by another's claim drops its file unrenamed.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.domain.settlements import Batch, file_name, record_fields, render
from service.errors import Conflict, NotFound
from service.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
MAX_FILES_PER_RUN = 100  # a backlog drains over several firings, each holding its lease briefly


@dataclass(frozen=True)
class ExportConfig:
    """Where and how files are written (the `settlements` config section)."""

    directory: Path
    format: str = "ndjson"
    max_records: int = 10_000
    currency: str | None = None


def configured(ctx: Context) -> ExportConfig | None:
    """The configured export, or None when `settlements.export_dir` is not set."""
    section = ctx.settings.section("settlements")
    if not section.get("export_dir"):
        return None
    config = Path(ctx.settings.source)
    base = config.resolve().parent if config.is_file() else PROJECT_ROOT
    return ExportConfig(directory=(base / section["export_dir"]).resolve(),
                        format=section["format"], max_records=section["max_records_per_file"],
                        currency=section.get("currency"))


def export_pending(ctx: Context, config: ExportConfig | None = None) -> list[dict[str, Any]]:
    """Export every record not yet exported, a file per batch; what each file holds."""
    config = config or configured(ctx)
    if config is None:
        raise NotFound("No settlement export is configured: set settlements.export_dir.")
    written = []
    for _ in range(MAX_FILES_PER_RUN):
        done = export_once(ctx, config)
        if done is None:
            break
        written.append(done)
    return written


def export_job(ctx: Context) -> list[dict[str, Any]]:
    """The scheduler's `settlements.export` job."""
    written = export_pending(ctx)
    for done in written:
        log.info("settlements: wrote %s (%s records, ids %s-%s)", done["file"],
                 done["records"], done["first_id"], done["last_id"])
    return written


def export_once(ctx: Context, config: ExportConfig) -> dict[str, Any] | None:
    """Export one batch (a pending one first); None when there is nothing to export or
    another run claimed the batch meanwhile."""
    claim = uuid.uuid4().hex
    claimed = _claim(ctx, config, claim)
    if claimed is None:
        return None
    batch, redone = claimed
    body = _body(ctx, batch)
    config.directory.mkdir(parents=True, exist_ok=True)
    temp = config.directory / f".{batch.file}.{claim}.tmp"  # hidden: an ERP glob skips it
    try:
        _write_synced(temp, body)
        if not _commit(ctx, batch, claim, temp, config.directory):
            log.info("settlements: batch %s was claimed by another run", batch.id)
            return None
    finally:
        temp.unlink(missing_ok=True)
    return {"batch": batch.id, **_summary(batch), "path": str(config.directory / batch.file),
            "redone": redone}


def _claim(ctx: Context, config: ExportConfig, claim: str) -> tuple[Batch, bool] | None:
    """Claim the pending batch (True: a redo), or cut and commit the next one (False); None
    when nothing is new."""
    with ctx.transaction() as uow:
        repo = uow.settlements
        after = repo.lock_watermark()
        pending = repo.pending()
        if pending is not None:
            repo.claim(pending.id, claim)
            # under the lock: every earlier claim is void now, so no temporary file of this
            # batch can be renamed any more (a dead run's would stay forever)
            _drop_stale(config.directory, pending.file)
            return replace(pending, claim=claim), True
        repo.settle_horizon()
        found = repo.next_range(after, config.max_records)
        if found is None:
            return None
        first, last, count = found
        return repo.add(first, last, count, file_name(first, last, config.format),
                        config.format, config.currency, claim), False


def _body(ctx: Context, batch: Batch) -> bytes:
    """The batch's file bytes, from its records alone."""
    with ctx.reading() as uow:
        rows = uow.settlements.records(batch.first_id, batch.last_id)
    if len(rows) != batch.records:
        raise Conflict(f"Settlement batch {batch.id} held {batch.records} records when it was "
                       f"cut and {len(rows)} now: records {batch.first_id}-{batch.last_id} "
                       "were changed under the export.")
    return render([record_fields(row, batch.currency) for row in rows], batch.format)


def _commit(ctx: Context, batch: Batch, claim: str, temp: Path, directory: Path) -> bool:
    """Rename the file into place and commit the watermark with it, if the claim holds."""
    with ctx.transaction() as uow:
        repo = uow.settlements
        repo.lock_watermark()
        if not repo.holds(batch.id, claim):
            return False
        try:
            os.replace(temp, directory / batch.file)
        except FileNotFoundError:  # removed by a run whose claim then failed to commit
            return False
        _sync_directory(directory)
        repo.finish(batch, _summary(batch))
    return True


def _summary(batch: Batch) -> dict[str, Any]:
    return {"file": batch.file, "format": batch.format, "records": batch.records,
            "first_id": batch.first_id, "last_id": batch.last_id}


def _drop_stale(directory: Path, file: str) -> None:
    """Remove earlier runs' temporary files of this batch (their claims are being taken
    over, so none of them may be renamed any more)."""
    for stale in directory.glob(f".{file}.*.tmp"):
        stale.unlink(missing_ok=True)


def _write_synced(path: Path, body: bytes) -> None:
    with open(path, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (the directory entry), where the OS lets a folder be synced."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
