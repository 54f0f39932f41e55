"""The stored ATS, moved by deltas in the writer's transaction or recomputed set-based."""

from __future__ import annotations

from collections.abc import Mapping

from service.rules.model import Ruleset
from service.store.unit_of_work import UnitOfWork


def move(uow: UnitOfWork, ruleset: Ruleset, deltas: Mapping[tuple[str, str], int]) -> None:
    """Add the deltas to the kept ATS (rows locked in key order, so writers never deadlock).

    ATS made by another ruleset (a switch raced this change) is recomputed instead. A SKU
    whose ATS rises for some channel wakes the orders waiting for it (`uow.backorders.wake`:
    nothing is written when no order has it backordered).
    """
    if not deltas:
        return
    uow.stock_moved({sku for _channel, sku in deltas})
    risen = {sku for (_channel, sku), units in deltas.items() if units > 0}
    if risen:
        uow.backorders.wake(risen)
    existing = uow.ats.lock(sorted(deltas))
    stale_skus = {key[1] for key, ref in existing.items() if ref != ruleset.ref}
    uow.ats.add(sorted(key for key, ref in existing.items() if ref == ruleset.ref), deltas)
    missing = {key: deltas[key] for key in sorted(deltas) if key not in existing}
    stale_skus |= uow.ats.insert_missing(ruleset.ref, missing)
    if stale_skus:
        uow.ats.recompute(ruleset, sorted(stale_skus))


def recompute(uow: UnitOfWork, ruleset: Ruleset, skus: list[str] | None = None,
              stock_moved: bool = True) -> int:
    """Recompute the kept ATS of skus (default: every sku) from the positions, set-based.

    A ruleset switch passes ``stock_moved=False``: it changes which rules make the active
    figures, not the positions, so the running experiments' variant figures (made from the
    same positions by their own rulesets) stay right and are not recomputed in full again
    before it commits (one more full pass per variant ruleset)."""
    if stock_moved:
        uow.stock_moved(skus)
    return uow.ats.recompute(ruleset, skus)


def recompute_locked(uow: UnitOfWork, ruleset: Ruleset, skus: list[str]) -> int:
    """Recompute the kept ATS of some skus in place, every channel's row of them locked first
    (made when missing, then locked in key order): two such recomputes, or one and a writer
    moving those rows, take turns, and the later one reads what the earlier committed."""
    uow.stock_moved(skus)
    keys = sorted((channel, sku) for channel in ruleset.channels for sku in set(skus))
    uow.ats.ensure(ruleset.ref, keys)
    uow.ats.lock(keys)
    return uow.ats.refresh(ruleset, sorted(set(skus)))
