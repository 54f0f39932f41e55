"""Live evaluation: the one way a request's ruleset is chosen (experiment assignment →
ruleset ref → loaded version), and the variants' kept ATS.

The running experiments are read from the database (every process runs the same ones) and
cached for a second, as the active ruleset is (`Rulesets.cached`): a request without a unit
asks nothing, and one with a unit asks the database at most once a second per process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.domain.experiments.assignment import Assignment, assign
from service.domain.experiments.model import Experiment
from service.errors import NotFound
from service.services.experiments.current import in_force
from service.store.models.versions import EXPERIMENTS

if TYPE_CHECKING:
    from service.rules.model import Ruleset
    from service.services.context import Context
    from service.services.rulesets.active import Rulesets
    from service.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
_CACHE_SECONDS = 1.0  # as the active ruleset's (Rulesets.cached)


@dataclass(frozen=True)
class Choice:
    """The ruleset deciding a request, and the experiment and variant that chose it."""

    ruleset: Ruleset
    experiment: str | None = None
    variant: str | None = None

    def names(self) -> dict[str, Any]:
        """`ruleset`, `experiment` and `variant` as every response names them."""
        return {"ruleset": self.ruleset.ref, "experiment": self.experiment,
                "variant": self.variant}


def running(ctx: Context, uow: UnitOfWork | None = None,
            status: str = "running") -> tuple[Experiment, ...]:
    """The experiments in force with this status, as checked within the last second."""
    cached = ctx.rules.experiments_cache
    if cached is None or time.monotonic() - cached[0] >= _CACHE_SECONDS:
        if uow is None:
            with ctx.reading(autocommit=True) as own:
                found = in_force(own)
        else:
            found = in_force(uow)
        cached = (time.monotonic(), {s: tuple(e for e in found if e.status == s)
                                     for s in ("running", "shadow")})
        ctx.rules.experiments_cache = cached
    return cached[1].get(status, ())


_memo: dict[tuple[int, str, str], Assignment] = {}  # (experiment object, unit, channel)
_MEMO_MAX = 100_000


def assigned(ctx: Context, channel: str, unit: str | None,
             uow: UnitOfWork | None = None) -> Assignment | None:
    """The unit's variant in the running experiment of the channel (None: in none; a
    request without a unit asks nothing). A unit's assignment is remembered per parsed
    experiment (pure but for its window, checked on every call)."""
    if not unit:
        return None
    now = ctx.clock.now()
    for experiment in running(ctx, uow):
        if (experiment.start is not None and now < experiment.start) or (
                experiment.end is not None and now >= experiment.end):
            continue
        key = (id(experiment), unit, channel)
        found = _memo.get(key)
        if found is None:
            found = assign(experiment, unit, now, channel)
            if len(_memo) >= _MEMO_MAX:
                _memo.clear()
            _memo[key] = found
        if found.in_experiment and found.ruleset is not None:
            return found
    return None


def choose(ctx: Context, uow: UnitOfWork, channel: str, unit: str | None) -> Choice:
    """The ruleset deciding a request in a transaction: the unit's variant's, else the
    active one (also when the variant's version does not load here: logged)."""
    found = assigned(ctx, channel, unit, uow)
    if found is None or found.ruleset is None:
        return Choice(ctx.rules.active(uow))
    try:
        ruleset = ctx.rules.resolve(uow, found.ruleset)
    except NotFound:
        log.error("experiment %s: ruleset %s does not load; the active one decides",
                  found.experiment, found.ruleset)
        return Choice(ctx.rules.active(uow))
    return Choice(ruleset, found.experiment, found.variant)


def kept_rulesets(rules: Rulesets, uow: UnitOfWork) -> list[Ruleset]:
    """The rulesets whose ATS is kept beside the active one's: every variant's of every
    running experiment (those that load here)."""
    refs = sorted({v.ruleset for e in in_force(uow) if e.status == "running"
                   for v in e.variants})
    found = []
    for ref in refs:
        try:
            found.append(rules.resolve(uow, ref))
        except NotFound:
            log.error("a running experiment names ruleset %s, which does not load here", ref)
    return found


def refresh_changed(uow: UnitOfWork) -> None:
    """Before a transaction commits: recompute the variants' kept ATS of the SKUs whose
    stock it moved (nothing is read when it moved none). Which rulesets are kept is known
    from the `experiments` cache version, which the transaction has read with the catalog's
    (no statement of its own); accepting a file takes the switch lock, so no writer that
    read the old version commits after the file's full recompute."""
    changed = uow.stock_changed
    rules: Rulesets | None = uow.rulesets  # type: ignore[assignment]
    if (changed is not None and not changed) or rules is None:
        return
    version = uow.versions.current(EXPERIMENTS)
    cached = rules.kept_variants
    if cached is None or cached[0] != version:
        cached = (version, kept_rulesets(rules, uow))
        rules.kept_variants = cached
    for ruleset in cached[1]:
        uow.variant_ats.refresh(ruleset, None if changed is None else sorted(changed))


def recompute_all(rules: Rulesets, uow: UnitOfWork) -> int:
    """Recompute every variant's kept ATS in full (an experiments file went in force); the
    rows of rulesets no running experiment names any longer go."""
    rulesets = kept_rulesets(rules, uow)
    uow.variant_ats.keep_only({r.ref for r in rulesets})
    return sum(uow.variant_ats.refresh(ruleset) for ruleset in rulesets)
