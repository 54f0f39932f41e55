"""When a transfer's units arrive, and what channels that count them in transit sell.

A channel rule's `count_in_transit` (within_hours) sells, at a transfer's destination, the
units in transit expected within that many hours. The kept ATS follows them: a shipment,
receipt or close recomputes its SKUs (`refresh_skus`, in the event's transaction), and the
`transfers.arrivals` job recomputes the SKUs whose transfers entered a window since its last
run (the time it covered is stored under its row lock, so two runs at once take turns and
a run missed by a stopped scheduler is made up by the next). A ruleset without the action
reads no transfers at all.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.errors import ValidationFailed, problem
from service.services.ats import kept
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

JOB = "transfers.arrivals"


def expected_at(body: dict[str, Any]) -> datetime | None:
    """The body's `expected_at` (an RFC 3339 time with an offset), or None when absent."""
    text = body.get("expected_at")
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise ValidationFailed("The expected arrival is not a time.", [problem(
            "/expected_at", f"expected an RFC 3339 time with an offset "
            f"(2026-12-07T09:00:00Z), got {text!r}")])
    return at


def refresh_skus(ctx: Context, uow: UnitOfWork, skus: Collection[str]) -> None:
    """Recompute the kept ATS of skus whose units in transit changed, when some channel of
    the active ruleset counts units in transit (after the transfer is saved)."""
    ruleset = ctx.rules.active(uow)
    if ruleset.transit_windows and skus:
        kept.recompute_locked(uow, ruleset, sorted(set(skus)))


def refresh_arrivals(ctx: Context) -> list[str]:
    """Recompute the SKUs whose transfers in transit entered a channel's window since the
    last run; the SKUs recomputed."""
    with ctx.transaction() as uow:
        since = uow.leases.marked(JOB)
        now = ctx.clock.now()
        ruleset = ctx.rules.active(uow)
        skus = uow.transfers.entering(ruleset.transit_windows, since, now)
        if skus:
            kept.recompute_locked(uow, ruleset, skus)
        uow.leases.mark(JOB, now)
        return skus
