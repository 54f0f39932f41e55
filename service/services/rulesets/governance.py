"""Ruleset governance: switching (and rolling back), following new files, reloading, listing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.errors import ValidationFailed, problem
from service.rules.loader import load_text
from service.rules.model import format_problem
from service.rules.vocabulary import export_vocabulary
from service.services.ats import kept
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
SYSTEM = "system:reload"


@dataclass(frozen=True)
class Activation:
    ref: str
    previous: str | None
    activated_by: str
    activated_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"ruleset": self.ref, "previous": self.previous,
                "activated_by": self.activated_by, "activated_at": self.activated_at}


def activate(ctx: Context, body: dict[str, Any], who: str) -> Activation:
    """Activate {"name", "version"?} (the previous version is the rollback): a use case."""
    name, version = parse_activation_body(body)
    with ctx.transaction() as uow:
        return switch(ctx, uow, name, version, who)


def switch(ctx: Context, uow: UnitOfWork, name: str, version: int | None,
           who: str) -> Activation:
    """Make name@version active and recompute every channel's ATS, in the caller's txn."""
    rulesets = ctx.rules
    target = rulesets.resolve(name if version is None else f"{name}@{version}")
    uow.activations.lock_for_switch()
    previous = rulesets.active(uow)
    row = uow.activations.add(target.name, target.version, target.content_hash, previous.ref,
                              who, uow.clock.now())
    kept.recompute(uow, target)
    rulesets.forget_cache()
    log.info("ruleset %s activated by %s (was %s)", target.ref, who, previous.ref)
    return Activation(target.ref, previous.ref, who, row.activated_at.isoformat())


def ensure_active(ctx: Context, uow: UnitOfWork) -> Activation | None:
    """On a fresh database, activate what config names (computing every ATS)."""
    if uow.activations.latest() is not None:
        return None
    ruleset = ctx.rules.configured_ruleset()
    return switch(ctx, uow, ruleset.name, ruleset.version, "system:startup")


def follow_latest(ctx: Context, uow: UnitOfWork) -> Activation | None:
    """When config asks for a name's latest version and nobody pinned one, follow new files."""
    if "@" in ctx.rules.configured:
        return None
    row = uow.activations.latest()
    if row is not None and not row.activated_by.startswith("system:"):
        return None  # an operator chose a version: do not override it
    latest = ctx.rules.configured_ruleset()
    if row is not None and (row.name, row.version) == (latest.name, latest.version):
        return None
    return switch(ctx, uow, latest.name, latest.version, SYSTEM)


def start(ctx: Context) -> Activation | None:
    """On a fresh database, make config's ruleset active (the app does this at start)."""
    with ctx.transaction() as uow:
        return ensure_active(ctx, uow)


def parse_activation_body(body: dict[str, Any]) -> tuple[str, int | None]:
    """{"name", "version"?} → (name, version) or a 422 naming each problem."""
    problems = []
    name, version = body.get("name"), body.get("version")
    if not isinstance(name, str) or not name:
        problems.append(problem("/name", "a ruleset name is required"))
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        problems.append(problem("/version", "expected an integer version"))
    if problems:
        raise ValidationFailed("The activation request is not valid.", problems)
    return name, version  # type: ignore[return-value]


def listing(ctx: Context) -> dict[str, Any]:
    """Every loaded version (which is active), activation history, and load errors."""
    registry = ctx.rules.registry
    with ctx.reading() as uow:
        active = ctx.rules.active(uow)
        history = uow.activations.history(20)
    versions = [{"name": rs.name, "version": rs.version, "ref": rs.ref,
                 "description": rs.description, "content_hash": rs.content_hash,
                 "path": rs.path, "active": rs.ref == active.ref}
                for rs in registry.versions()]
    errors = [p.to_dict() for problems in registry.problems.values() for p in problems]
    return {"active": active.ref, "configured": ctx.rules.configured, "versions": versions,
            "load_errors": errors,
            "activations": [{"ruleset": f"{a.name}@{a.version}", "previous": a.previous,
                             "activated_by": a.activated_by,
                             "activated_at": a.activated_at.isoformat()} for a in history]}


def show(ctx: Context, name: str, version: int) -> dict[str, Any]:
    """One loaded version, normalised."""
    ruleset = ctx.rules.resolve(f"{name}@{version}")
    return {"ref": ruleset.ref, "content_hash": ruleset.content_hash, "path": ruleset.path,
            "document": ruleset.to_dict()}


def load_health(ctx: Context) -> dict[str, Any]:
    """Health check: degraded while some rule file fails to load."""
    problems = ctx.rules.registry.problems
    failing = sorted(path for path, found in problems.items()
                     if any(p.severity == "error" for p in found))
    if failing:
        return {"status": "degraded", "failing_files": failing}
    return {"status": "ok"}


def reload(ctx: Context) -> dict[str, Any]:
    """Reload the directory (the scheduler's job); follow the latest version when asked to."""
    report = ctx.rules.registry.reload()
    for problem_ in report.errors:
        log.error("rule file problem: %s", format_problem(problem_))
    with ctx.transaction() as uow:
        activation = ensure_active(ctx, uow) or follow_latest(ctx, uow)
    return {"added": list(report.added), "errors": len(report.errors),
            "activated": activation.ref if activation else None}


def validate_text(ctx: Context, data: bytes, filename: str) -> dict[str, Any]:
    """Every problem of a rule file's text (line, column, pointer); nothing is loaded."""
    max_bytes = ctx.settings.section("rulesets")["max_file_bytes"]
    result = load_text(data, filename, max_bytes)
    problems = [p.to_dict() for p in result.problems]
    return {"valid": result.ok, "ruleset": result.ruleset.ref if result.ok else None,
            "errors": [p for p in problems if p["severity"] == "error"],
            "warnings": [p for p in problems if p["severity"] == "warning"]}


def vocabulary() -> dict[str, Any]:
    """The variables, operators and actions rule files may use, per rule context."""
    return export_vocabulary()
