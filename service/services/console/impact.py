"""A draft's whole impact: every channel's availability (rulesets.drafts.impact) and a
re-plan of the latest orders (orders.replay).

The figures are computed from the process's columnar copy of the positions (milliseconds,
rulesets.impact_columns) and kept per process, keyed by what they were computed from: the
draft's text, the active version, and the store's marker (the newest inventory-journal row,
the `catalog` cache version, the newest order; store.ats_impact.stock_marker). Any change of a
position's counts, of a product's or location's facts, a new order, another active version or
another text gives another key, so the figures shown are exactly what a computation now would
give.

The re-plan costs milliseconds per order (each is loaded and planned twice), so it takes the
latest REPLAYED orders only, and is kept per draft text, active version, catalog version and
newest order: a change of stock alone does not re-plan (the page says when it was planned).
Both are kept for at most KEPT_SECONDS (the re-plan's costs and dates depend on the clock).
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.services.orders import replay
from service.services.rulesets import drafts

if TYPE_CHECKING:
    from service.services.context import Context

KEPT_SECONDS = 60.0
KEPT_IMPACTS = 32
REPLAYED = 10  # the latest orders the preview re-plans (docs/benchmarks.md: ms per order)

# per service context (a process may hold several, as the tests do), newest used last
_kept: dict[int, OrderedDict[tuple[Any, ...], tuple[float, dict[str, Any]]]] = {}
_lock = threading.Lock()


def impact(ctx: Context, role: Role, name: str, draft_id: int) -> dict[str, Any]:
    """Availability per channel, and sourcing replayed on the latest orders (each kept while
    nothing it was computed from changed)."""
    drafts.authorize_editor(role)
    found, ruleset = drafts.loaded(ctx, name, draft_id)
    with ctx.reading() as uow:
        draft = (name, draft_id, hashlib.sha256(found.text.encode()).hexdigest(),
                 ctx.rules.active(uow).ref)
        marker = uow.impact_marker()
    *_journal, catalog, newest_order = marker

    def figures() -> dict[str, Any]:
        return {**drafts.impact(ctx, role, name, draft_id),
                "computed_at": ctx.clock.now().isoformat(timespec="seconds")}

    def sourcing() -> dict[str, Any]:
        return {**replay.replay(ctx, ruleset, REPLAYED), "latest": REPLAYED,
                "planned_at": ctx.clock.now().isoformat(timespec="seconds")}

    shown = _kept_or_computed(ctx, ("figures", *draft, *marker), figures)
    return {**shown, "sourcing": _kept_or_computed(
        ctx, ("sourcing", *draft, catalog, newest_order), sourcing)}


def _kept_or_computed(ctx: Context, key: tuple[Any, ...],
                      compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    now = time.monotonic()
    with _lock:
        mine = _kept.get(id(ctx))
        if mine is None:
            mine = _kept[id(ctx)] = OrderedDict()
            weakref.finalize(ctx, _kept.pop, id(ctx), None)
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
