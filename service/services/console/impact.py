"""A draft's whole impact: every channel's availability (rulesets.drafts.impact) and a
re-plan of the latest orders (orders.replay), both on the stock as it is now.

The computation reads every position with units (a scan of the positions: seconds at a
million), so it is kept per process, keyed by what it was computed from: the draft's text,
the active version, and the store's marker (the newest inventory-journal row, the `catalog`
cache version, the newest order; store.ats_impact.stock_marker). Any change of a position's
counts, of a product's or location's facts, a new order, another active version or another
text gives another key, so a kept impact is exactly what a computation now would give. It is
also kept for at most KEPT_SECONDS (the re-plan's costs and dates depend on the clock).
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.services.orders import replay
from service.services.rulesets import drafts

if TYPE_CHECKING:
    from service.services.context import Context

KEPT_SECONDS = 60.0
KEPT_IMPACTS = 32

# per service context (a process may hold several, as the tests do), newest used last
_kept: dict[int, OrderedDict[tuple[Any, ...], tuple[float, dict[str, Any]]]] = {}
_lock = threading.Lock()


def impact(ctx: Context, role: Role, name: str, draft_id: int) -> dict[str, Any]:
    """Availability per channel, and sourcing replayed on the latest orders (kept while
    nothing it was computed from changed)."""
    drafts.authorize_editor(role)
    found, ruleset = drafts.loaded(ctx, name, draft_id)
    with ctx.reading() as uow:
        key = (name, draft_id,
               hashlib.sha256(found.text.encode()).hexdigest(),
               ctx.rules.active(uow).ref, *uow.impact_marker())
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
    shown = {**drafts.impact(ctx, role, name, draft_id), "sourcing": replay.replay(ctx, ruleset),
             "computed_at": ctx.clock.now().isoformat(timespec="seconds")}
    with _lock:
        mine[key] = (now, shown)
        while len(mine) > KEPT_IMPACTS:
            mine.popitem(last=False)
    return shown
