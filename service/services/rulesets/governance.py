"""Ruleset governance: switching (and rolling back), following the latest version when
config opts in, and the reload every process runs (import files, then follow)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.errors import ValidationFailed, problem
from service.services.ats import kept
from service.services.rulesets import experiment_file, library
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

log = logging.getLogger(__name__)
SYSTEM = "system:reload"
_refreshing = threading.Lock()


@dataclass(frozen=True)
class Activation:
    ref: str
    previous: str | None
    activated_by: str
    activated_at: str
    key_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ruleset": self.ref, "previous": self.previous,
                "activated_by": self.activated_by, "key_id": self.key_id,
                "activated_at": self.activated_at}


def activate(ctx: Context, body: dict[str, Any], who: str,
             key_id: str | None = None) -> Activation:
    """Activate {"name", "version"?} (the previous version is the rollback): a use case."""
    name, version = parse_activation_body(body)
    with ctx.transaction() as uow:
        return switch(ctx, uow, name, version, who, key_id)


def switch(ctx: Context, uow: UnitOfWork, name: str, version: int | None, who: str,
           key_id: str | None = None) -> Activation:
    """Make a published name@version active and recompute every channel's ATS, in the
    caller's transaction."""
    rulesets = ctx.rules
    uow.activations.lock_for_switch()
    target = rulesets.get(uow, name, version)
    previous = rulesets.active(uow)
    row = uow.activations.add(target.name, target.version, target.content_hash, previous.ref,
                              who, uow.clock.now(), key_id)
    kept.recompute(uow, target, stock_moved=False)  # variant figures stay right
    uow.active_ruleset = target
    rulesets.forget_cache()
    log.info("ruleset %s activated by %s (was %s)", target.ref, who, previous.ref)
    return Activation(target.ref, previous.ref, who, row.activated_at.isoformat(), key_id)


def ensure_active(ctx: Context, uow: UnitOfWork) -> Activation | None:
    """On a fresh database, activate what config names (computing every ATS)."""
    if uow.activations.latest() is not None:
        return None
    uow.activations.lock_for_switch()  # several processes start at once: one activates
    if uow.activations.latest() is not None:
        return None
    ruleset = ctx.rules.configured_ruleset(uow)
    return switch(ctx, uow, ruleset.name, ruleset.version, "system:startup")


def _behind(ctx: Context, uow: UnitOfWork) -> bool:
    """Whether config follows a name's latest version (``name@latest``), nobody pinned
    another one, and a newer version is published than the active one."""
    if not ctx.rules.follows_latest:
        return False
    row = uow.activations.latest()
    if row is not None and not row.activated_by.startswith("system:"):
        return False  # an operator chose a version: do not override it
    latest = ctx.rules.configured_ruleset(uow)
    return row is None or (row.name, row.version) != (latest.name, latest.version)


def follow_latest(ctx: Context, uow: UnitOfWork) -> Activation | None:
    """Activate the latest version when config follows it and it is not active yet."""
    if not _behind(ctx, uow):
        return None
    uow.activations.lock_for_switch()
    if not _behind(ctx, uow):  # another process followed it meanwhile
        return None
    latest = ctx.rules.configured_ruleset(uow)
    return switch(ctx, uow, latest.name, latest.version, SYSTEM)


def start(ctx: Context) -> Activation | None:
    """Import the rule files, and on a fresh database make config's ruleset active."""
    library.import_files(ctx, if_changed=True)
    with ctx.transaction() as uow:
        activation = ensure_active(ctx, uow)
    experiment_file.import_file(ctx, if_changed=True)  # its rulesets are published by now
    return activation


def reload(ctx: Context, if_changed: bool = False) -> dict[str, Any]:
    """Import new rule files, record problems, and follow the latest version when config
    opts in (the scheduler's job; each serving process runs it too, see refresh_if_due)."""
    report = library.import_files(ctx, if_changed)
    experiment_file.import_file(ctx, if_changed)
    with ctx.reading() as uow:
        needed = uow.activations.latest() is None or _behind(ctx, uow)
    activation = None
    if needed:
        with ctx.transaction() as uow:
            activation = ensure_active(ctx, uow) or follow_latest(ctx, uow)
    return {"added": list(report.added) if report else [],
            "errors": len(report.errors) if report else 0,
            "activated": activation.ref if activation else None}


def refresh_if_due(ctx: Context) -> None:
    """At most every reload_seconds: reload (a serving process calls this before requests;
    one thread of the process does it while the others go on)."""
    rulesets = ctx.rules
    now = time.monotonic()
    if now < rulesets.next_refresh or not _refreshing.acquire(blocking=False):
        return
    try:
        rulesets.next_refresh = now + ctx.settings.section("rulesets")["reload_seconds"]
        reload(ctx, if_changed=True)
    except Exception:  # the request itself meets (and reports) a database that is down
        log.warning("rulesets not reloaded", exc_info=True)
    finally:
        _refreshing.release()


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
