"""The experiments file of the rules folder (rulesets/experiments.yaml): checked against the
published ruleset versions, then stored in the database, so every process and host runs the
same experiments. An invalid file never replaces the last good one: its problems are
reported like a rule file's (`/healthz` degraded, `GET /v1/rulesets` load_errors, the log).
A missing file changes nothing: to end an experiment, set its status to stopped. With several
hosts, the newest file (by its modification time) is in force; a host whose file is older
reports a warning instead of putting it back.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from service.errors import NotFound
from service.rules.experiments import ExperimentsLoad, experiments_file, load_experiments_file
from service.rules.model import Problem
from service.rules.registry import RulesetNotFound, parse_spec
from service.services.experiments import live
from service.services.rulesets import library
from service.store.models.versions import EXPERIMENTS

if TYPE_CHECKING:
    from service.services.context import Context
    from service.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def reporter(ctx: Context) -> str:
    """Who reports this process's experiments-file problems."""
    return f"{library.reporter(ctx)}:experiments"


def known_ref(ctx: Context, uow: UnitOfWork, ref: str) -> bool:
    """Whether name@version is published and loads in this release."""
    try:
        name, version = parse_spec(ref)
        if version is None:
            return False
        ctx.rules.get(uow, name, version)
    except (NotFound, RulesetNotFound):
        return False
    return True


def check_file(ctx: Context, path: str | Path) -> ExperimentsLoad:
    """Load an experiments file and check its rulesets against the published versions."""
    with ctx.reading() as uow:
        return load_experiments_file(path, lambda ref: known_ref(ctx, uow, ref),
                                     ctx.rules.max_bytes)


def import_file(ctx: Context, if_changed: bool = False) -> bool:
    """Accept the folder's experiments file when it is valid and new (True when a new
    version went in force); report its problems either way."""
    root = ctx.settings.rulesets_dir
    path = experiments_file(root)
    signature = _signature(path)
    if if_changed and ctx.rules.experiments_imported == (signature, False):
        return False
    if path is None:
        library.record_problems(ctx, [], reporter(ctx))
        ctx.rules.experiments_imported = (signature, False)
        return False
    load = check_file(ctx, path)
    problems = list(load.problems)
    published = False
    if load.ok and load.text is not None and signature is not None:
        published, older = _publish(ctx, load.text, path, root, signature[1])
        problems += older
    library.record_problems(ctx, problems, reporter(ctx))
    ctx.rules.experiments_imported = (signature, bool(problems))
    return published


def _publish(ctx: Context, text: str, path: Path, root: Path, mtime_ns: int
             ) -> tuple[bool, list[Problem]]:
    """Put the file in force unless it is the one in force, or older than it (another
    host's newer file wins: this one is a warning, not a flip back)."""
    digest = library.digest(text)
    modified = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    with ctx.transaction() as uow:
        uow.activations.lock_for_switch()  # no ATS writer between the recompute and commit
        current = uow.experiments.current()
        if current is not None and current.text_sha256 == digest:
            return False, []
        if current is not None and modified <= current.modified_at:
            return False, [Problem(
                str(path), 1, 1, "", f"not applied: the experiments in force come from a newer "
                f"file ({current.path}, {current.published_by}, modified "
                f"{current.modified_at:%Y-%m-%d %H:%M:%S} UTC)", "warning", "older-file")]
        uow.experiments.publish(text, digest, os.path.relpath(path, root), modified,
                                f"file:{library.HOST}", uow.clock.now())
        uow.versions.bump(EXPERIMENTS)
        live.recompute_all(ctx.rules, uow)  # the variants' kept ATS, with the file
    ctx.rules.experiments_cache = ctx.rules.kept_variants = None
    log.info("experiments file %s in force (%s)", path, digest[:12])
    return True, []


def _signature(path: Path | None) -> tuple[str, int, int] | None:
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_mtime_ns, stat.st_size
