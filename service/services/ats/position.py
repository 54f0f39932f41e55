"""What one position lets a channel sell: ATS = 0 when excluded, else available - hold-back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from service.domain.ledger import available_units
from service.rules.evaluate import evaluate_channel
from service.rules.model import Ruleset
from service.rules.variables import readers_of
from service.store.catalog import CatalogSnapshot


class Stock(Protocol):
    """Anything that says what a position holds (a PositionStock, a row read for sourcing)."""

    @property
    def location_id(self) -> str: ...

    @property
    def sku(self) -> str: ...

    @property
    def on_hand(self) -> int: ...

    @property
    def allocated(self) -> int: ...

    @property
    def reserved(self) -> int: ...

    @property
    def available(self) -> int: ...


@dataclass(frozen=True)
class PositionStock:
    """What a position holds, before or after a change."""

    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int

    @property
    def available(self) -> int:
        """Free units: on hand, less allocated and reserved (never below 0)."""
        return available_units(self.on_hand, self.allocated, self.reserved)

    @classmethod
    def of(cls, row: Any) -> PositionStock:
        """The stock of any row with location_id, sku, on_hand, allocated and reserved."""
        return cls(row.location_id, row.sku, row.on_hand, row.allocated, row.reserved)


_POSITION_READERS = readers_of("position")


def position_facts(catalog: CatalogSnapshot, pos: Stock, channel: str
                   ) -> dict[str, Any] | None:
    """Every rule variable for a position seen by a channel (None: unknown product/location)."""
    product = catalog.products.get(pos.sku)
    location = catalog.locations.get(pos.location_id)
    if product is None or location is None:
        return None
    facts = {**product, **location, "channel": channel}
    for name, read in _POSITION_READERS:  # (the sourcing hot path: no dict built per reader)
        facts[name] = read(pos)
    return facts


def position_ats(ruleset: Ruleset, catalog: CatalogSnapshot, pos: Stock | None,
                 channel: str) -> int:
    """Units of one position a channel may sell (its share of the channel's ATS)."""
    if pos is None:
        return 0
    facts = position_facts(catalog, pos, channel)
    if facts is None or not facts["active"] or not ruleset.serves(channel, facts):
        return 0
    outcome = evaluate_channel(ruleset, channel, facts)
    if outcome.excluded:
        return 0
    return max(0, facts["available"] - outcome.hold_back)


Arriving = Sequence[tuple[datetime, int]]  # (expected_at, units) of transfers in transit


def counted_in_transit(arriving: Arriving, hours: float | None, now: datetime | None) -> int:
    """Units in transit a channel counts: those expected within its window (hours) of now."""
    if hours is None or not arriving or now is None:
        return 0
    horizon = now + timedelta(hours=hours)
    return sum(units for expected_at, units in arriving if expected_at <= horizon)


def position_units(ruleset: Ruleset, catalog: CatalogSnapshot, pos: PositionStock,
                   channel: str, arriving: Arriving = (), now: datetime | None = None) -> int:
    """explain_position's `available`, without the explanation (nothing traced or kept)."""
    facts = position_facts(catalog, pos, channel)
    if facts is None or not facts["active"] or not ruleset.serves(channel, facts):
        return 0
    outcome = evaluate_channel(ruleset, channel, facts)
    if outcome.excluded:
        return 0
    counted = counted_in_transit(arriving, outcome.in_transit_hours, now)
    return max(0, pos.available + counted - outcome.hold_back)


def explain_position(ruleset: Ruleset, catalog: CatalogSnapshot, pos: PositionStock,
                     channel: str, arriving: Arriving = (), now: datetime | None = None
                     ) -> dict[str, Any]:
    """One location's stock for a channel, its ATS and the rules that shaped it (with the
    units in transit it counts, when a count_in_transit rule matched)."""
    facts = position_facts(catalog, pos, channel)
    out = {"location": pos.location_id, "on_hand": pos.on_hand, "allocated": pos.allocated,
           "reserved": pos.reserved, "hold_back": 0, "excluded": False, "available": 0,
           "rules": []}
    if facts is None:
        return out
    outcome = evaluate_channel(ruleset, channel, facts, trace=True)
    inactive = not facts["active"]
    unserved = not ruleset.serves(channel, facts)
    out.update(hold_back=outcome.hold_back, excluded=outcome.excluded or inactive or unserved,
               rules=[hit.to_dict() for hit in outcome.hits])
    if outcome.in_transit_hours is not None:
        out["in_transit_counted"] = counted_in_transit(arriving, outcome.in_transit_hours, now)
    if not out["excluded"]:
        out["available"] = max(
            0, pos.available + out.get("in_transit_counted", 0) - outcome.hold_back)
    if inactive:
        out["rules"].append({"rule": "(location inactive)", "variables": {}, "actions": []})
    if unserved:
        sells = ", ".join(ruleset.sells(channel))
        out["rules"].append({
            "rule": f"(the location serves none of what {channel} sells: {sells})",
            "variables": {"can_ship": facts["can_ship"], "can_pickup": facts["can_pickup"]},
            "actions": []})
    return out
