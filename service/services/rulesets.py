"""Ruleset governance: which version is active, switching (and rolling back), reloading.

The registry holds every loaded version in memory; the database records activations, so
every process of the service agrees on the active version.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.errors import NotFound, ValidationFailed, problem
from service.rules.model import Ruleset, format_problem
from service.rules.registry import Registry, RulesetNotFound
from service.services import channel_figures
from service.store.models import RulesetActivation

log = logging.getLogger(__name__)
SYSTEM = "system:reload"
_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class Activation:
    ref: str
    previous: str | None
    activated_by: str
    activated_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "ruleset": self.ref,
            "previous": self.previous,
            "activated_by": self.activated_by,
            "activated_at": self.activated_at,
        }


class Rulesets:
    """The registry plus the database's record of activations, for one process."""

    def __init__(self, registry: Registry, configured: str):
        self.registry = registry
        self.configured = configured
        self._cached: tuple[float, Ruleset] | None = None
        self._lock = threading.Lock()

    def configured_ruleset(self) -> Ruleset:
        """The ruleset config.yaml names (its latest version when no version is given)."""
        return self.resolve(self.configured)

    def resolve(self, spec: str) -> Ruleset:
        """'name' (latest) or 'name@version' → a loaded ruleset, or NotFound."""
        try:
            return self.registry.resolve(spec)
        except RulesetNotFound as exc:
            raise NotFound(f"No valid ruleset {spec!r} is loaded: {exc}.") from exc

    def active(self, session: Session) -> Ruleset:
        """The active ruleset as the database records it (inside the caller's transaction).

        On PostgreSQL this also takes the switch lock in shared mode until the transaction
        ends, so a ruleset switch can never recompute the figures between this transaction's
        reading of the ruleset and its figure deltas.
        """
        row = _locked_activation(session)
        if row is None:
            return self.configured_ruleset()
        name, version = row
        try:
            return self.registry.get(name, version)
        except RulesetNotFound:  # the file vanished: keep serving what config names
            log.error("active ruleset %s@%s is not loaded", name, version)
            return self.configured_ruleset()

    def cached(self) -> Ruleset | None:
        """The active ruleset if it was checked within the last second, else None."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        return None

    def active_cached(self, session: Session) -> Ruleset:
        """The active ruleset, rechecked at most once a second (for reads)."""
        ruleset = self.cached()
        if ruleset is None:
            ruleset = self.active(session)
            with self._lock:
                self._cached = (time.monotonic(), ruleset)
        return ruleset

    def forget_cache(self) -> None:
        with self._lock:
            self._cached = None


_SWITCH_LOCK = 0x0A5F1C0  # one advisory lock key: "the active ruleset and its figures"


def _switch_lock(session: Session, shared: bool) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: every writer already holds the database lock (BEGIN IMMEDIATE)
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    session.execute(text(f"SELECT {function}(:key)"), {"key": _SWITCH_LOCK})


def _locked_activation(session: Session) -> tuple[str, int] | None:
    """The switch lock (shared) and then the newest activation's name and version.

    PostgreSQL does both in one round trip (`oms_active_ruleset()`, migration 0005).
    """
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_ACTIVE_AFTER_LOCK).first()
    else:
        _switch_lock(session, shared=True)
        row = session.execute(select(RulesetActivation.name, RulesetActivation.version)
                              .order_by(RulesetActivation.id.desc()).limit(1)).first()
    return None if row is None else (row[0], row[1])


_ACTIVE_AFTER_LOCK = text("SELECT name, version FROM oms_active_ruleset()")


def lock_for_recompute(session: Session) -> None:
    """Wait for every writer to finish and keep new ones out until this transaction ends."""
    _switch_lock(session, shared=False)


def require_channel(ruleset: Ruleset, channel: str) -> None:
    """404 naming the known channels when the ruleset does not define channel."""
    if channel not in ruleset.channels:
        raise NotFound(f"Channel {channel!r} is not in ruleset {ruleset.ref}; "
                       f"known: {', '.join(sorted(ruleset.channels))}.")


def latest_activation(session: Session) -> RulesetActivation | None:
    """The newest activation row, if any."""
    return session.scalars(
        select(RulesetActivation).order_by(RulesetActivation.id.desc()).limit(1)
    ).first()


def activate(
    rulesets: Rulesets, session: Session, name: str, version: int | None, who: str
) -> Activation:
    """Make name@version active and recompute every channel figure, in the caller's txn."""
    spec = name if version is None else f"{name}@{version}"
    target = rulesets.resolve(spec)
    lock_for_recompute(session)
    previous = rulesets.active(session)
    row = RulesetActivation(
        name=target.name,
        version=target.version,
        content_hash=target.content_hash,
        previous=previous.ref,
        activated_by=who,
    )
    session.add(row)
    session.flush()
    channel_figures.recompute(session, target)
    rulesets.forget_cache()
    log.info("ruleset %s activated by %s (was %s)", target.ref, who, previous.ref)
    return Activation(target.ref, previous.ref, who, row.activated_at.isoformat())


def ensure_active(rulesets: Rulesets, session: Session) -> Activation | None:
    """On a fresh database, activate what config names (computing the channel figures)."""
    if latest_activation(session) is not None:
        return None
    ruleset = rulesets.configured_ruleset()
    return activate(rulesets, session, ruleset.name, ruleset.version, "system:startup")


def follow_latest(rulesets: Rulesets, session: Session) -> Activation | None:
    """When config asks for a name's latest version and nobody pinned one, follow new files."""
    if "@" in rulesets.configured:
        return None
    row = latest_activation(session)
    if row is not None and not row.activated_by.startswith("system:"):
        return None  # an operator chose a version: do not override it
    latest = rulesets.configured_ruleset()
    if row is not None and (row.name, row.version) == (latest.name, latest.version):
        return None
    return activate(rulesets, session, latest.name, latest.version, SYSTEM)


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
    return name, version


def listing(ctx: Any) -> dict[str, Any]:
    """Every loaded version (which is active), activation history, and load errors."""
    registry = ctx.rules.registry
    with ctx.sessions() as session:
        active = ctx.rules.active(session)
        history = session.scalars(select(RulesetActivation)
                                  .order_by(RulesetActivation.id.desc()).limit(20)).all()
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


def load_health(ctx: Any) -> dict[str, Any]:
    """Health check: degraded while some rule file fails to load."""
    problems = ctx.rules.registry.problems
    failing = sorted(path for path, found in problems.items()
                     if any(p.severity == "error" for p in found))
    if failing:
        return {"status": "degraded", "failing_files": failing}
    return {"status": "ok"}


def reload(ctx: Any) -> dict[str, Any]:
    """Reload the directory (the scheduler's job); follow the latest version when asked to."""
    report = ctx.rules.registry.reload()
    for problem_ in report.errors:
        log.error("rule file problem: %s", format_problem(problem_))
    with ctx.sessions.begin() as session:
        activation = ensure_active(ctx.rules, session) or follow_latest(ctx.rules, session)
    return {"added": list(report.added), "errors": len(report.errors),
            "activated": activation.ref if activation else None}
