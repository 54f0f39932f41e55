"""Published ruleset versions: rule files imported, versions published through the API, and
the load problems any process found, all kept in the database so every process and host
loads the same versions and reports the same problems.

A version is immutable: publishing name@version again with the same text changes nothing;
with different text it is refused (a load problem for a file, a 422 for the API).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.errors import ValidationFailed, problem
from service.rules.loader import LoadResult, load_directory, load_text, rule_files
from service.rules.model import Problem, Ruleset, format_problem
from service.store.errors import DuplicateRow
from service.store.ruleset_versions import ReportedProblem

if TYPE_CHECKING:
    from service.services.context import Context
    from service.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
HOST = socket.gethostname()


@dataclass(frozen=True)
class ImportReport:
    added: tuple[str, ...]
    errors: tuple[Problem, ...]


def digest(text: str) -> str:
    """sha256 of a version's text: what makes two publications of it the same (line endings
    aside: a checkout with CRLF endings publishes the same version as one with LF)."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def reporter(ctx: Context) -> str:
    """Who reports this process's file problems: the host and its rules folder."""
    return f"{HOST}:{ctx.settings.rulesets_dir}"


def import_files(ctx: Context, if_changed: bool = False) -> ImportReport | None:
    """Publish every valid new file of the rules folder; record every file's problems.

    With ``if_changed``, nothing is done (None) when no file was added, removed or touched
    since this process's last import that succeeded.
    """
    root = ctx.settings.rulesets_dir
    signature = _signature(root)
    if if_changed and ctx.rules.imported == (signature, False):
        return None  # (while some file has problems, look again: the report stays fresh)
    load = load_directory(root, ctx.rules.max_bytes)
    try:
        added, changed = _publish_files(ctx, root, load.results)
    except DuplicateRow:  # another process published one of them first: compare with it
        added, changed = _publish_files(ctx, root, load.results)
    problems = [p for r in load.results if r.ruleset is None for p in r.problems] + changed
    record_problems(ctx, problems)
    ctx.rules.imported = (signature, bool(problems))
    return ImportReport(tuple(added), tuple(p for p in problems if p.severity == "error"))


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    found = []
    for path in rule_files(root):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def _publish_files(ctx: Context, root: Path, results: tuple[LoadResult, ...]
                   ) -> tuple[list[str], list[Problem]]:
    """Publish the files not published yet (one transaction, opened only when some are new);
    a file saying something else for a published version is a problem."""
    loaded = [(r, r.ruleset, r.text) for r in results
              if r.ruleset is not None and r.text is not None]
    with ctx.reading() as uow:
        changed = [p for r, _rs, _text in loaded for p in clashes(uow, r)]
        new = [(r, rs, text) for r, rs, text in loaded
               if uow.ruleset_versions.find(rs.name, rs.version) is None]
    if not new:
        return [], changed
    with ctx.transaction() as uow:
        for result, ruleset, text in new:
            _add(uow, ruleset, text, "file", os.path.relpath(result.path, root), f"file:{HOST}")
    return [ruleset.ref for _r, ruleset, _text in new], changed


def _add(uow: UnitOfWork, ruleset: Ruleset, text: str, source: str, path: str | None,
         by: str) -> None:
    uow.ruleset_versions.add(ruleset.name, ruleset.version, text, digest(text),
                             ruleset.content_hash, source, path, by, uow.clock.now())


def clashes(uow: UnitOfWork, result: LoadResult) -> list[Problem]:
    """A problem when the file's name@version is published with different text."""
    ruleset, text = result.ruleset, result.text
    if ruleset is None or text is None:
        return []
    found = uow.ruleset_versions.find(ruleset.name, ruleset.version)
    if found is None or found.text_sha256 == digest(text):
        return []
    latest = uow.ruleset_versions.find(ruleset.name)
    following = (latest.version if latest else ruleset.version) + 1
    origin = found.path if found.source == "file" else "the API"
    return [Problem(result.path, *result.version_position, "/version",
                    f"{ruleset.ref} is already published (from {origin}, "
                    f"{found.published_at:%Y-%m-%d %H:%M} UTC) with different text; published "
                    f"versions never change: give this one a new version ({following} is "
                    "the next free one)", "error", "version-changed")]


def stale_after(ctx: Context) -> timedelta:
    """How long a reported problem counts without its reporter seeing it again (a process
    that stopped, or a one-off command on another folder, does not degrade health for ever);
    a reporter that still sees it reports it again after a third of that."""
    return timedelta(seconds=max(120, 3 * ctx.settings.section("rulesets")["reload_seconds"]))


def record_problems(ctx: Context, problems: list[Problem], who: str | None = None) -> None:
    """This reporter's problems are now these (written when they change or are getting
    stale; logged when they are new); ``who`` defaults to this process's rules folder."""
    who, now = who or reporter(ctx), ctx.clock.now()
    found = [ReportedProblem(who, p.path, p.line, p.col, p.pointer, p.message, p.severity,
                             p.code, now) for p in problems]
    with ctx.reading() as uow:
        reported = uow.ruleset_versions.problems(who)
    stored = {p.key for p in reported}
    fresh = all(now - p.seen_at < stale_after(ctx) / 3 for p in reported)
    if stored == {p.key for p in found} and fresh:
        return
    with ctx.transaction() as uow:
        uow.ruleset_versions.replace_problems(who, found)
    for item in problems:
        if ReportedProblem(who, item.path, item.line, item.col, item.pointer, item.message,
                           item.severity, item.code, now).key not in stored:
            log.error("rule file problem: %s", format_problem(item))


def reported_problems(ctx: Context, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every process's load problems seen lately (one entry per problem, with who saw it)."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    since = ctx.clock.now() - stale_after(ctx)
    for item in uow.ruleset_versions.problems():
        if item.seen_at < since:
            continue
        entry = seen.setdefault(item.key, {
            "path": item.path, "line": item.line, "col": item.col, "pointer": item.pointer,
            "message": item.message, "severity": item.severity, "code": item.code,
            "reported_by": [], "seen_at": item.seen_at.isoformat()})
        if item.reporter not in entry["reported_by"]:
            entry["reported_by"].append(item.reporter)
    return list(seen.values())


def check_text(ctx: Context, data: bytes | str, filename: str) -> LoadResult:
    """Load a rule file's text and check it against the published versions too."""
    result = load_text(data, filename, ctx.rules.max_bytes)
    with ctx.reading() as uow:
        changed = clashes(uow, result)
    if not changed:
        return result
    return LoadResult(result.path, None, (*result.problems, *changed), result.version_position,
                      result.text)


def publish(ctx: Context, data: bytes, filename: str, who: str) -> tuple[bool, dict[str, Any]]:
    """Publish a version's text through the API: (created, what is published now). A text
    with errors, or one saying something new for a published version, is a 422."""
    result = check_text(ctx, data, filename)
    if result.ruleset is None:
        raise ValidationFailed(
            f"The rule file {filename} is not valid: nothing was published.",
            [problem(p.pointer, p.message, line=p.line, col=p.col, code=p.code)
             for p in result.errors])
    ruleset, text = result.ruleset, result.text or ""
    try:
        with ctx.transaction() as uow:
            if uow.ruleset_versions.find(ruleset.name, ruleset.version) is not None:
                return False, _published(ruleset.ref, result)
            _add(uow, ruleset, text, "api", None, who)
    except DuplicateRow:  # published by another request meanwhile: the same text, or a 422
        return publish(ctx, data, filename, who)
    log.info("ruleset %s published by %s", ruleset.ref, who)
    return True, _published(ruleset.ref, result)


def _published(ref: str, result: LoadResult) -> dict[str, Any]:
    return {"ruleset": ref, "sha256": digest(result.text or ""),
            "warnings": [p.to_dict() for p in result.problems if p.severity == "warning"]}
