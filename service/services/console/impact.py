"""A draft's whole impact: every channel's availability (rulesets.drafts.impact) and a
re-plan of the latest orders (orders.replay).

The figures are computed from the process's columnar copy of the positions (milliseconds,
rulesets.impact_columns) and kept per process, keyed by what they were computed from: the
draft's text, the active version, and the store's marker (the newest inventory-journal row,
the `catalog` cache version, the newest order; store.ats_impact.stock_marker). Any change of a
position's counts, of a product's or location's facts, a new order, another active version or
another text gives another key, so the figures shown are exactly what a computation now would
give.

The re-plan costs tens of milliseconds per order at a million positions (each order is
loaded and planned twice), so it takes the latest REPLAYED orders only, and is kept per draft
text, active version, catalog version and newest order: a change of stock alone does not
re-plan. The API waits for a re-plan that is not kept. The console page does not: it shows
the draft's previous re-plan, marked `current: false` with the time it was planned, while one
worker thread plans again once the draft and orders have not changed for SETTLE_SECONDS (one
draft at a time); the next view shows the new one. Both are
kept for at most KEPT_SECONDS (the re-plan's costs and dates depend on the clock).
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.services.orders import replay
from service.services.rulesets import drafts

if TYPE_CHECKING:
    from service.services.context import Context

KEPT_SECONDS = 60.0
KEPT_IMPACTS = 32
REPLAYED = 10  # the latest orders the preview re-plans (docs/benchmarks.md: ms per order)
SETTLE_SECONDS = 1.0  # the console's background re-plan waits this long without a new change

# per service context (a process may hold several, as the tests do), newest used last
_kept: dict[int, OrderedDict[tuple[Any, ...], tuple[float, dict[str, Any]]]] = {}
_lock = threading.Lock()
# the newest re-plan of each draft, whatever it was computed from: (ctx, name, draft) -> it
_latest: dict[tuple[int, str, int], dict[str, Any]] = {}
_planning: dict[tuple[int, str, int], Future[Any]] = {}
_wanted: dict[tuple[int, str, int], tuple[tuple[Any, ...], Any]] = {}  # (key, ruleset)
_planner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="impact-replan")


def impact(ctx: Context, role: Role, name: str, draft_id: int,
           wait_for_replan: bool = True) -> dict[str, Any]:
    """Availability per channel, and sourcing replayed on the latest orders (each kept while
    nothing it was computed from changed); without wait_for_replan, a re-plan that is not
    kept is started in the background and the draft's previous one is shown meanwhile."""
    drafts.authorize_editor(role)
    found, ruleset = drafts.loaded(ctx, name, draft_id)
    with ctx.reading() as uow:
        draft = (name, draft_id, hashlib.sha256(found.text.encode()).hexdigest(),
                 ctx.rules.active(uow).ref)
        marker = uow.impact_marker()
    *_journal, catalog, newest_order = marker

    def figures() -> dict[str, Any]:
        return {**drafts.impact(ctx, role, name, draft_id, ruleset),
                "computed_at": ctx.clock.now().isoformat(timespec="seconds")}

    shown = _kept_or_computed(ctx, ("figures", *draft, *marker), figures)
    return {**shown, "sourcing": _sourcing(ctx, ("sourcing", *draft, catalog, newest_order),
                                           ruleset, wait_for_replan)}


def _sourcing(ctx: Context, key: tuple[Any, ...], ruleset: Any, wait_for_replan: bool
              ) -> dict[str, Any]:
    """The re-plan computed from key: kept, computed now, or the draft's previous one while
    the worker plans again."""
    draft = (id(ctx), key[1], key[2])
    with _lock:
        previous = _latest.get(draft)
    if wait_for_replan or previous is None:
        return _kept_or_computed(ctx, key, lambda: _replan(ctx, draft, ruleset))
    kept = _kept_or_none(ctx, key)
    if kept is not None:
        return kept
    with _lock:
        _wanted[draft] = (key, ruleset)
        if draft not in _planning:
            job = _planner.submit(_replan_when_settled, ctx, draft)
            _planning[draft] = job
            job.add_done_callback(lambda _done: _forget(draft))
    return {**previous, "current": False}


def _replan(ctx: Context, draft: tuple[int, str, int], ruleset: Any) -> dict[str, Any]:
    planned = {**replay.replay(ctx, ruleset, REPLAYED), "latest": REPLAYED,
               "planned_at": ctx.clock.now().isoformat(timespec="seconds"), "current": True}
    with _lock:
        _latest[draft] = planned
    return planned


def _replan_when_settled(ctx: Context, draft: tuple[int, str, int]) -> None:
    """Plan the draft's wanted re-plan once nothing new was wanted for SETTLE_SECONDS (an
    author typing changes one value after another: only the last is planned, and the
    worker's CPU does not slow the pages in between)."""
    settled = False
    while not settled:
        with _lock:
            wanted = _wanted[draft]
        time.sleep(SETTLE_SECONDS)
        with _lock:
            settled = _wanted[draft] is wanted
    key, ruleset = wanted
    _kept_or_computed(ctx, key, lambda: _replan(ctx, draft, ruleset))


def _drop(ctx_id: int) -> None:
    """Forget what a context kept (its id may be given to another one)."""
    with _lock:
        _kept.pop(ctx_id, None)
        for draft in [d for d in _latest if d[0] == ctx_id]:
            _latest.pop(draft, None)
            _wanted.pop(draft, None)


def _forget(draft: tuple[int, str, int]) -> None:
    with _lock:
        _planning.pop(draft, None)


def replans_done(timeout: float = 30.0) -> bool:
    """Wait for the background re-plans started so far (tests, benchmarks); True when none
    is left running."""
    with _lock:
        running = list(_planning.values())
    return not wait(running, timeout=timeout).not_done


def _kept_or_none(ctx: Context, key: tuple[Any, ...]) -> dict[str, Any] | None:
    with _lock:
        kept = _kept.get(id(ctx), {}).get(key)
    if kept is not None and time.monotonic() - kept[0] <= KEPT_SECONDS:
        return kept[1]
    return None


def _kept_or_computed(ctx: Context, key: tuple[Any, ...],
                      compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    now = time.monotonic()
    with _lock:
        mine = _kept.get(id(ctx))
        if mine is None:
            mine = _kept[id(ctx)] = OrderedDict()
            weakref.finalize(ctx, _drop, id(ctx))
        kept = mine.get(key)
        if kept is not None and now - kept[0] <= KEPT_SECONDS:
            mine.move_to_end(key)
            return kept[1]
    shown = compute()
    with _lock:
        mine[key] = (now, shown)
        while len(mine) > KEPT_IMPACTS:
            mine.popitem(last=False)
    return shown
