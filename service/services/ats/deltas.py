"""How a change of positions moves each channel's ATS: per-position ATS before and after.

A snapshot's thousands of changed positions need only a few rule evaluations: positions that
agree on everything the channel rules can see sell the same (`_AtsMemo`).
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.rules.evaluate import evaluate_channel
from service.rules.model import Ruleset
from service.rules.predicates import variables_read
from service.services.ats.position import (
    Arriving,
    PositionStock,
    Stock,
    counted_in_transit,
    position_facts,
)
from service.store.catalog import CatalogSnapshot
from service.store.unit_of_work import UnitOfWork

Deltas = dict[tuple[str, str], int]  # (channel, sku) -> units


def add_deltas(into: Deltas, more: Deltas) -> Deltas:
    """Sum `more` into `into` (zero sums dropped) and return it."""
    for key, value in more.items():
        total = into.get(key, 0) + value
        if total:
            into[key] = total
        else:
            into.pop(key, None)
    return into


Changes = Iterable[tuple[PositionStock | None, PositionStock]]


def stock_deltas(uow: UnitOfWork, ruleset: Ruleset, changes: Changes) -> Deltas:
    """channel_deltas of a transaction's position changes, with the units in transit to
    them when some channel counts those (else no transfer is read). The SKUs are noted for
    the variants' kept ATS (refreshed before the transaction commits)."""
    changes = list(changes)
    uow.stock_moved({after.sku for _, after in changes})
    if not ruleset.transit_windows:
        return channel_deltas(ruleset, uow.catalog(), changes)
    arriving, now = arrivals(uow, ruleset, [(a.location_id, a.sku) for _, a in changes])
    return channel_deltas(ruleset, uow.catalog(), changes, arriving, now)


def arrivals(uow: UnitOfWork, ruleset: Ruleset, keys: Iterable[tuple[str, str]]
             ) -> tuple[Mapping[tuple[str, str], Arriving], datetime | None]:
    """The units in transit to these positions and the time they are counted at, when some
    channel of the ruleset counts them (else nothing is read: ({}, None))."""
    if not ruleset.transit_windows:
        return {}, None
    return uow.transfers.arriving(set(keys)), uow.clock.now()


def channel_deltas(
    ruleset: Ruleset,
    catalog: CatalogSnapshot,
    changes: Changes,
    arriving: Mapping[tuple[str, str], Arriving] | None = None,
    now: datetime | None = None,
) -> Deltas:
    """How each channel's ATS of a sku moves when positions change from before to after
    (`arriving`: the units in transit to positions, counted by count_in_transit rules)."""
    channels = list(ruleset.channels)
    memo = _AtsMemo(ruleset, catalog, channels, arriving or {}, now)
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for before, after in changes:
        old = memo.ats(before)
        new = memo.ats(after)
        for channel, was, now in zip(channels, old, new, strict=True):
            if now != was:
                deltas[(channel, after.sku)] += now - was
    return {key: value for key, value in deltas.items() if value}


_ABSENT = object()


def _frozen(value: Any) -> Any:
    """A hashable stand-in equal only for values every predicate treats alike (1 != True)."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)


_READ: dict[tuple[str, str, tuple[str, ...]], frozenset[str]] = {}


def _variables_read(ruleset: Ruleset, channels: tuple[str, ...]) -> frozenset[str]:
    """Every variable the channels' rules read (rulesets are immutable: computed once)."""
    key = (ruleset.ref, ruleset.content_hash, channels)
    read = _READ.get(key)
    if read is None:
        names = {"active", "can_ship", "can_pickup"}  # what Ruleset.serves reads
        for channel in channels:
            for rule in ruleset.channels.get(channel, ()):
                names.update(variables_read(rule.conditions))
        read = _READ[key] = frozenset(names)
    return read


@dataclass
class _Kept:
    """What _AtsMemo remembers across calls for one ruleset, channel list and catalog
    snapshot: an order's before and after figures are mostly ones earlier orders computed."""

    catalog: CatalogSnapshot  # held, so that its id is not reused while this is kept
    products: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, Any] = field(default_factory=dict)
    known: dict[Any, list[int]] = field(default_factory=dict)
    # each distinct part (the frozen facts the rules read) as a small int, so that a
    # figure's key is four ints: hashed and compared at every position a plan reads
    parts: dict[Any, int] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=itertools.count)  # (atomic in threads)


_KEPT: dict[tuple[str, str, tuple[str, ...], int], _Kept] = {}
_KEPT_LOCK = threading.Lock()
KEPT_RULESETS = 16  # (ruleset, channels, catalog) kept at once; more, and the oldest goes
# (sourcing keeps one per channel it reads, stock deltas one for every channel together)
KEPT_FIGURES = 50_000  # figures kept per ruleset and catalog; more, and they are dropped


def _kept(ruleset: Ruleset, catalog: CatalogSnapshot, channels: list[str]) -> _Kept:
    """The memo's remembered figures for this ruleset (immutable per ref and content hash),
    channel list and catalog snapshot (a new snapshot when master data changes), bounded.
    Positions with units in transit are never remembered (their figures depend on now)."""
    key = (ruleset.ref, ruleset.content_hash, tuple(channels), id(catalog))
    kept = _KEPT.get(key)
    if kept is None or kept.catalog is not catalog:
        with _KEPT_LOCK:  # (threads of one worker: the oldest is dropped once)
            _KEPT.pop(key, None)
            while len(_KEPT) >= KEPT_RULESETS:
                del _KEPT[next(iter(_KEPT))]
            kept = _KEPT[key] = _Kept(catalog)
    elif len(kept.known) >= KEPT_FIGURES:
        kept.known.clear()
    return kept


class _AtsMemo:
    """position_ats() per channel, remembered by everything the channel rules can see
    (across calls: `_kept`).

    A compiled predicate reads only the variables its conditions name, and the outcome
    otherwise depends on ``available`` alone, so positions that agree on the named product
    and location variables, the availability (and on_hand, when a rule reads it) sell the
    same: a snapshot's thousands of changed positions need only a few rule evaluations.
    Values that cannot be keyed (unhashable) are simply evaluated every time.
    """

    def __init__(self, ruleset: Ruleset, catalog: CatalogSnapshot, channels: list[str],
                 arriving: Mapping[tuple[str, str], Arriving], now: datetime | None) -> None:
        read = _variables_read(ruleset, tuple(channels))
        self._arriving, self._now = arriving, now
        self._ruleset, self._catalog, self._channels = ruleset, catalog, channels
        self._on_hand = "on_hand" in read
        self._names = sorted(read - {"on_hand", "available", "channel"})
        kept = _kept(ruleset, catalog, channels)
        self._products, self._locations, self._known = kept.products, kept.locations, kept.known
        self._parts, self._numbers = kept.parts, kept.numbers
        self._zeros = [0] * len(channels)

    def _part(self, cache: dict[str, Any], source: dict[str, Any], key: str) -> Any:
        part = cache.get(key, _ABSENT)
        if part is _ABSENT:
            facts = source.get(key)
            try:
                part = None if facts is None else self._parts.setdefault(tuple(
                    _frozen(facts.get(name, _ABSENT)) for name in self._names),
                    next(self._numbers))
            except TypeError:  # an unhashable fact
                part = None
            cache[key] = part
        return part

    def ats(self, pos: Stock | None) -> list[int]:
        if pos is None:
            return self._zeros
        arriving = self._arriving and self._arriving.get((pos.location_id, pos.sku))
        if arriving:  # few positions have units in transit: evaluated every time
            return _ats_per_channel(self._ruleset, self._catalog, pos, self._channels,
                                    arriving, self._now)
        available = pos.available
        if available == 0:  # nothing to sell, whatever the rules say
            return self._zeros
        product = self._products.get(pos.sku, _ABSENT)  # (the part, mostly known already)
        if product is _ABSENT:
            product = self._part(self._products, self._catalog.products, pos.sku)
        location = self._locations.get(pos.location_id, _ABSENT)
        if location is _ABSENT:
            location = self._part(self._locations, self._catalog.locations, pos.location_id)
        if product is None or location is None:
            return _ats_per_channel(self._ruleset, self._catalog, pos, self._channels)
        key = (product, location, available, pos.on_hand if self._on_hand else None)
        out = self._known.get(key)
        if out is None:
            out = self._known[key] = _ats_per_channel(
                self._ruleset, self._catalog, pos, self._channels)
        return out


def channel_ats_reader(ruleset: Ruleset, catalog: CatalogSnapshot, channel: str
                       ) -> Callable[[Stock | None], int]:
    """position_ats() for one channel, remembered as channel_deltas remembers figures (the
    sourcing read asks it for every position it reads; units in transit are not counted)."""
    memo = _AtsMemo(ruleset, catalog, [channel], {}, None)
    return lambda pos: memo.ats(pos)[0]


def _ats_per_channel(
    ruleset: Ruleset, catalog: CatalogSnapshot, pos: Stock | None, channels: list[str],
    arriving: Arriving = (), now: datetime | None = None
) -> list[int]:
    """Each channel's figure of a position (position_ats(), plus the units in transit its
    count_in_transit rules count), building the position's facts once."""
    if pos is None or (pos.available == 0 and not arriving):  # nothing to sell
        return [0] * len(channels)
    facts = position_facts(catalog, pos, channels[0] if channels else "")
    if facts is None or not facts["active"]:
        return [0] * len(channels)
    out = []
    for channel in channels:
        if not ruleset.serves(channel, facts):
            out.append(0)
            continue
        facts["channel"] = channel
        outcome = evaluate_channel(ruleset, channel, facts)
        counted = counted_in_transit(arriving, outcome.in_transit_hours, now)
        out.append(0 if outcome.excluded else
                   max(0, pos.available + counted - outcome.hold_back))
    return out
