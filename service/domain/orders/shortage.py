"""What an order does with the units no location can ship now (its `on_short`).

- reject: the order is refused (nothing is written) when any unit is short;
- backorder: what can ship is allocated, the rest waits on its line as backordered;
- ship_available: what can ship is allocated, the rest is cancelled when the order is placed
  (an order that could ship nothing at all is refused instead).

An order that does not say takes its ruleset's split fallback: `reject` rejects, `backorder`
and `allow_split` backorder (a split that still falls short ends in the backorder plan).
"""

from __future__ import annotations

from collections.abc import Mapping

ON_SHORT = ("reject", "backorder", "ship_available")
PLACEMENT_CANCEL_REASON = "not in stock when placed (on_short: ship_available)"


def default_on_short(fallback: str) -> str:
    """What an order does when short if it does not say: its ruleset's split fallback."""
    return "reject" if fallback == "reject" else "backorder"


def planner_fallback(on_short: str, fallback: str) -> str:
    """The split fallback to plan with: an order that keeps what it can needs the plan that
    ships the most units, where the ruleset would plan nothing."""
    return "backorder" if on_short != "reject" and fallback == "reject" else fallback


def refused(on_short: str, short: Mapping[str, int], shipped_units: int) -> bool:
    """Whether an order with these short units (by SKU) is refused rather than placed."""
    if not any(short.values()):
        return False
    return on_short == "reject" or (on_short == "ship_available" and shipped_units == 0)


def split_short(on_short: str, short: Mapping[str, int]
                ) -> tuple[dict[str, int], dict[str, int]]:
    """(backordered, cancelled) units by SKU of a placed order's short units."""
    units = {sku: q for sku, q in short.items() if q}
    if on_short == "ship_available":
        return {}, units
    if on_short == "backorder":
        return units, {}
    if units:
        raise ValueError(f"an order that rejects when short cannot be short of {units}")
    return {}, {}
