"""Replay: orders re-planned in time order against stock as it was, in memory.

The engine takes time-ordered events (an order's placement, a stock change, a backlog move)
and an in-memory ledger of positions and open fulfilment lines. A placement is planned by the
injected planner against the ledger, its plan's units are allocated in the ledger and its
shipments' lines open there, so stock runs out as it did. Later changes that belong to a
replayed order (its cancel, shipment, re-route...) apply as journaled when its replayed plan
is the live one; when the plan changed, a cancel or shipment moves the order's replayed
units instead (of the same SKU, wherever the replay took them) and anything else is counted
as `diverged` and left out. Nothing here reads or writes a database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

Key = tuple[str, str]  # (location_id, sku)


class Position(NamedTuple):
    """A position as the planner reads it (the shape of a stock row, id unused: 0)."""

    id: int
    location_id: str
    sku: str
    on_hand: int
    allocated: int
    reserved: int


@dataclass(frozen=True)
class Change:
    """A stock change: units added (negative: taken) to a position's three counts."""

    location_id: str
    sku: str
    on_hand: int = 0
    allocated: int = 0
    reserved: int = 0


@dataclass(frozen=True)
class Placement:
    """An order placed: its request, its live plan, and the non-allocation changes of its
    own transaction (reservations it consumed) that come before its plan."""

    order_id: str
    request: Any
    live: dict[str, Any]
    before: tuple[Change, ...] = ()

    @cached_property
    def live_key(self) -> tuple[Any, ...]:
        """The live plan's `plan_key` (worked out once, whatever the runs)."""
        return plan_key(self.live)


@dataclass(frozen=True)
class OrderChange:
    """A later change of a replayed order's stock (cause: cancel, shipment, order...)."""

    order_id: str
    cause: str
    change: Change


@dataclass(frozen=True)
class BacklogMove:
    """Fulfilment lines opened (positive) or closed at a location; `order_id` when the
    fulfilment is a replayed order's."""

    location_id: str
    lines: int
    order_id: str | None = None


@dataclass(frozen=True)
class Event:
    at: datetime
    seq: int
    what: Change | Placement | OrderChange | BacklogMove


class StartingStock:
    """The positions a replay starts from, per SKU and location, read-only: built once and
    shared by every run (each run's ledger keeps only the positions it changed)."""

    def __init__(self, positions: Iterable[tuple[str, str, int, int, int]]) -> None:
        self.by_sku: dict[str, dict[str, tuple[int, int, int]]] = defaultdict(dict)
        for loc, sku, on, al, re in positions:
            self.by_sku[sku][loc] = (on, al, re)

    def get(self, location_id: str, sku: str) -> tuple[int, int, int] | None:
        here = self.by_sku.get(sku)
        return None if here is None else here.get(location_id)


class _Changed(dict[Key, list[int]]):
    """The counts of the positions a run changed; reading any other one gives a copy of its
    starting counts (KeyError when it has none)."""

    def __init__(self, start: StartingStock) -> None:
        super().__init__()
        self.start = start

    def __missing__(self, key: Key) -> list[int]:
        counts = self.start.get(*key)
        if counts is None:
            raise KeyError(key)
        return list(counts)


class Ledger:
    """Positions and open fulfilment lines per location, in memory: the starting stock
    (shared, never changed) under the counts of the positions this ledger changed."""

    def __init__(self, positions: StartingStock | Iterable[tuple[str, str, int, int, int]],
                 backlog: dict[str, int]) -> None:
        self.start = positions if isinstance(positions, StartingStock) else StartingStock(
            positions)
        self.counts: _Changed = _Changed(self.start)
        self.changed: dict[str, dict[str, list[int]]] = defaultdict(dict)  # sku -> loc
        self.backlog: Counter[str] = Counter({k: v for k, v in backlog.items() if v})

    def at(self, skus: Sequence[str], location_ids: Sequence[str]) -> list[Position]:
        """The positions of `skus` at `location_ids` (as the store's `positions.at`)."""
        found = []
        by_sku, changed = self.start.by_sku, self.changed
        for sku in dict.fromkeys(skus):
            here, mine = by_sku.get(sku, {}), changed.get(sku, {})
            found += [Position(0, loc, sku, *c) for loc in dict.fromkeys(location_ids)
                      if (c := mine.get(loc) or here.get(loc)) is not None]
        return found

    def apply(self, change: Change) -> None:
        key = (change.location_id, change.sku)
        counts = self.counts.get(key)
        if counts is None:
            start = self.start.get(*key)
            counts = self.counts[key] = [0, 0, 0] if start is None else list(start)
            self.changed[change.sku][change.location_id] = counts
        counts[0] += change.on_hand
        counts[1] += change.allocated
        counts[2] += change.reserved

    def open_lines(self) -> dict[str, int]:
        return {loc: n for loc, n in self.backlog.items() if n > 0}


@dataclass
class Outcome:
    """One order replayed: its live plan, its replayed plan, whether they are the same."""

    order_id: str
    live: dict[str, Any]
    replayed: dict[str, Any]
    same: bool


Planner = Callable[[Any, Ledger], dict[str, Any]]


def plan_key(plan: dict[str, Any]) -> tuple[Any, ...]:
    """What must agree for two plans to be the same: shipments' locations and lines,
    the units short, and the cost (to 4 places, as the plan keeps it)."""
    shipments = tuple((s["location"], tuple((ln["sku"], ln["quantity"]) for ln in s["lines"]))
                      for s in plan.get("shipments", ()))
    short = tuple(sorted((ln["sku"], ln["quantity"]) for ln in plan.get("unfulfilled", ())))
    return shipments, short, round(float(plan.get("total_cost", 0.0)), 4)


@dataclass
class Engine:
    """Replays events through a ledger with a planner (one ruleset's)."""

    ledger: Ledger
    planner: Planner
    diverged: int = 0
    taken: dict[str, dict[Key, int]] = field(default_factory=dict)  # order -> units
    opened: dict[str, Counter[str]] = field(default_factory=dict)  # order -> lines
    same: dict[str, bool] = field(default_factory=dict)

    def run(self, events: Iterable[Event]) -> Iterator[Outcome]:
        for event in events:
            what = event.what
            if isinstance(what, Placement):
                yield self._place(what)
            elif isinstance(what, Change):
                self.ledger.apply(what)
            elif isinstance(what, OrderChange):
                self._order_change(what)
            else:
                self._backlog(what)

    def _place(self, placement: Placement) -> Outcome:
        for change in placement.before:
            self.ledger.apply(change)
        plan = self.planner(placement.request, self.ledger)
        taken, lines = {}, Counter[str]()
        for shipment in plan["shipments"]:
            lines[shipment["location"]] += len(shipment["lines"])
            for line in shipment["lines"]:
                key = (shipment["location"], line["sku"])
                taken[key] = taken.get(key, 0) + line["quantity"]
                self.ledger.apply(Change(key[0], key[1], allocated=line["quantity"]))
        self.ledger.backlog.update(lines)
        same = plan_key(plan) == placement.live_key
        self.taken[placement.order_id], self.opened[placement.order_id] = taken, lines
        self.same[placement.order_id] = same
        return Outcome(placement.order_id, placement.live, plan, same)

    def _order_change(self, event: OrderChange) -> None:
        if event.order_id not in self.same:  # before its placement: its own rows
            return
        if self.same[event.order_id]:
            self.ledger.apply(event.change)
            return
        change = event.change
        if event.cause not in ("cancel", "shipment") or change.allocated >= 0:
            self.diverged += 1
            return
        self._release(event.order_id, change.sku, -change.allocated,
                      ship=change.on_hand < 0)

    def _release(self, order_id: str, sku: str, units: int, ship: bool) -> None:
        """Take `units` of `sku` out of the order's replayed allocation (off the shelf too
        when shipped), wherever the replay allocated them."""
        taken = self.taken[order_id]
        for key in [k for k in taken if k[1] == sku]:
            moved = min(units, taken[key])
            if moved <= 0:
                continue
            taken[key] -= moved
            units -= moved
            self.ledger.apply(Change(key[0], sku, on_hand=-moved if ship else 0,
                                     allocated=-moved))

    def _backlog(self, move: BacklogMove) -> None:
        if move.order_id is None or self.same.get(move.order_id, True):
            self.ledger.backlog[move.location_id] += move.lines
            return
        opened = self.opened[move.order_id]
        if move.lines > 0:  # a re-route of an order whose plan changed: not replayed
            self.diverged += 1
            return
        closing = -move.lines
        for location in sorted(opened, key=lambda loc: loc != move.location_id):
            closed = min(closing, opened[location])
            opened[location] -= closed
            self.ledger.backlog[location] -= closed
            closing -= closed
