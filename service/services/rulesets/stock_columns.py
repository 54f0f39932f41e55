"""A per-process columnar copy of every position's counts (numpy arrays), for the impact
preview: loaded once by one scan, then brought up to date from the inventory journal.
The load reads one row per location (store.position_columns: SKUs joined, counts packed and
unpacked by numpy), and names become dense indices by one dict lookup each, with no Python
call per position: 0.7 s at 1M positions on PostgreSQL, 1.2 s on SQLite (docs/benchmarks.md).

Every change of a position's counts writes a journal row in its transaction (the positions
table's triggers). Before each use the copy reads the rows above the newest id it has seen
and re-reads the current counts of the positions they name. On PostgreSQL a transaction that
took its ids earlier can commit after a newer one: the copy also counts the rows among the
last JOURNAL_WINDOW ids and, when there are more than it saw, reads the ones it missed (the
same window store.ats_impact.stock_marker trusts). Positions are kept sorted by (location
index, SKU index), so one is found by binary search; a new position re-sorts the arrays.

Memory: 24 bytes per position here (key, on_hand, free as int64), and about 9 more derived
per layout by rulesets.impact_columns (SKU and location indices, a known mask) plus a byte
per kept condition tree: the process's RSS grew by 96 MB at 1M positions with the first
impact (docs/architecture.md); about ten times that at 10M.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from service.store.ats_impact import JOURNAL_WINDOW
from service.store.position_columns import Counts, PositionColumnsSource, PositionKey

if TYPE_CHECKING:
    from service.services.context import Context

RELOAD_ABOVE = 200_000  # more positions changed than this since the last use: load again


@dataclass(eq=False)  # kept by identity (derived arrays are kept per copy)
class Columns:
    """The positions as columns, sorted by `key` (location index << 32 | SKU index)."""

    locations: list[str]
    skus: list[str]
    key: np.ndarray
    on_hand: np.ndarray
    free: np.ndarray  # on_hand - allocated - reserved (may be below 0)

    @property
    def loc(self) -> np.ndarray:
        return (self.key >> 32).astype(np.int32)

    @property
    def sku(self) -> np.ndarray:
        return (self.key & 0xFFFFFFFF).astype(np.int32)


class _Indices:
    """Names to dense indices, growing as new names appear."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def of(self, name: str) -> int:
        found = self.index.get(name)
        if found is None:
            found = self.index[name] = len(self.names)
            self.names.append(name)
        return found

    def codes(self, names: Sequence[str]) -> np.ndarray:
        """The indices of many names (new ones added in sorted order), with no Python call
        per name."""
        for name in sorted(set(names).difference(self.index)):
            self.of(name)
        return np.fromiter(map(self.index.__getitem__, names), np.int64, len(names))


class StockColumns:
    """One process's copy; `current(uow)` gives it up to date, under its lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._columns: Columns | None = None
        self._locations, self._skus = _Indices(), _Indices()
        self._newest = 0
        self._seen: set[int] = set()  # journal ids within the window below _newest

    @contextmanager
    def current(self, source: PositionColumnsSource) -> Iterator[Columns]:
        """The copy as of now (held under the lock until the block ends: no refresh moves
        the arrays while a caller reads them)."""
        with self._lock:
            kept = self._columns
            columns = self._load(source) if kept is None else self._refresh(source, kept)
            self._columns = columns
            yield columns

    def _load(self, source: PositionColumnsSource) -> Columns:
        self._locations, self._skus = _Indices(), _Indices()
        self._newest = source.newest_journal_id()
        self._seen = set(source.journal_ids(self._newest - JOURNAL_WINDOW))
        self._newest = max(self._seen, default=self._newest)
        keys, on_hand, free = [], [], []  # numpy per batch: no Python list of every row
        for locations, skus, counted, available in source.all_count_columns():
            keys.append((self._locations.codes(locations) << 32) | self._skus.codes(skus))
            on_hand.append(counted)
            free.append(available)
        empty = [np.zeros(0, np.int64)]
        return _sorted(self._locations.names, self._skus.names, np.concatenate(keys or empty),
                       np.concatenate(on_hand or empty), np.concatenate(free or empty))

    def _refresh(self, source: PositionColumnsSource, columns: Columns) -> Columns:
        low = self._newest - JOURNAL_WINDOW
        rows, counted = source.journal_since(self._newest, low)
        seen_below = sum(1 for i in self._seen if i > low)
        if counted > seen_below:  # late commits
            missed = [i for i in source.journal_ids(low) if i <= self._newest
                      and i not in self._seen]
            rows += source.journal_rows(missed)
        if not rows:
            return columns
        touched = list({(loc, sku) for _id, loc, sku in rows})
        if len(touched) > RELOAD_ABOVE:
            return self._load(source)
        self._seen.update(i for i, _loc, _sku in rows)
        self._newest = max(self._newest, max(i for i, _loc, _sku in rows))
        self._seen = {i for i in self._seen if i > self._newest - JOURNAL_WINDOW}
        return self._apply(columns, touched, source.counts_of(touched))

    def _apply(self, columns: Columns, touched: list[PositionKey],
               counts: Iterable[Counts]) -> Columns:
        """Set the touched positions' counts (a vanished one to 0; a new one added)."""
        now = {(c[0], c[1]): c for c in counts}
        added: list[tuple[int, int, int]] = []
        for location_id, sku in touched:
            counted = now.get((location_id, sku))
            on_hand, free = ((counted[2], counted[2] - counted[3] - counted[4])
                             if counted else (0, 0))
            key = (self._locations.of(location_id) << 32) | self._skus.of(sku)
            at = int(np.searchsorted(columns.key, key))
            if at < columns.key.shape[0] and int(columns.key[at]) == key:
                columns.on_hand[at], columns.free[at] = on_hand, free
            elif counted:
                added.append((key, on_hand, free))
        columns.locations, columns.skus = self._locations.names, self._skus.names
        if not added:
            return columns
        more = np.array(added, dtype=np.int64)
        return _sorted(columns.locations, columns.skus,
                       np.concatenate([columns.key, more[:, 0]]),
                       np.concatenate([columns.on_hand, more[:, 1]]),
                       np.concatenate([columns.free, more[:, 2]]))


def _sorted(locations: list[str], skus: list[str], key: np.ndarray, on_hand: np.ndarray,
            free: np.ndarray) -> Columns:
    order = np.argsort(key, kind="stable")
    return Columns(locations, skus, key[order], on_hand[order], free[order])


_kept: dict[int, StockColumns] = {}
_kept_lock = threading.Lock()


def kept_for(ctx: Context) -> StockColumns:
    """The copy of one service context (a process may hold several, as the tests do)."""
    with _kept_lock:
        found = _kept.get(id(ctx))
        if found is None:
            found = _kept[id(ctx)] = StockColumns()
            weakref.finalize(ctx, _kept.pop, id(ctx), None)
        return found
