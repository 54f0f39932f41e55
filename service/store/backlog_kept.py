"""PostgreSQL: each worker thread keeps the backlog it read, and reads again only what moved.

An order's first statement (`oms_order_start`, migrations 0034 and 0035) is given the
snapshot of this thread's previous read and returns, under one new snapshot: that snapshot,
the count of statements that deleted backlog rows (a trigger counts them), the database's
identity (server start, database oid, schema), the transaction's id if it has one, and only
the rows whose last writer (`moved_by`, set on every insert and update) was not visible in
the previous snapshot (found through an index on `moved_by`). A row whose last writer was
visible then is the version read then: a later version would have a later writer. So the
previous rows with the returned ones laid over them are the table as the new snapshot sees
it, unless rows were deleted since, which the deletion count reveals (the rows are then read
in full).

The new snapshot is kept only when the transaction had no id at the read: a transaction
with an id is missing from its own snapshot's in-progress list, so its later writes would
look visible in it and never be read again. Nothing is kept across databases, schemas or a
server restart (the identity differs: read in full).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# the rows in full and the deletion count (migration 0035; -1: its row is missing), under
# one snapshot (when the kept rows cannot be used)
FULL_READ = ("SELECT 's'::text, pg_current_snapshot()::text, "
             "COALESCE((SELECT d.deletions FROM location_backlog_deletions d), -1) "
             "UNION ALL SELECT 'b'::text, location_id, open_lines FROM location_backlog")


class Counts(dict[str, int]):
    """Non-zero open lines per location, laid over an earlier read's (`base`, weakly held):
    only the locations in `moved` may differ from it. Never changed once handed out."""

    __slots__ = ("__weakref__", "_base", "moved")

    def __init__(self, counts: Mapping[str, int], base: Counts | None = None,
                 moved: Collection[str] = ()) -> None:
        super().__init__(counts)
        self._base = weakref.ref(base) if base is not None else None
        self.moved = frozenset(moved)

    def moved_since(self, earlier: Mapping[str, int]) -> frozenset[str] | None:
        """The locations whose count may differ from `earlier`'s when these counts were laid
        over that very object; None when they were not (compare the two instead)."""
        if self._base is not None and self._base() is earlier:
            return self.moved
        return None


@dataclass(frozen=True)
class Kept:
    """A thread's last read: where from, its snapshot, the deletion count it saw and the
    non-zero counts (never mutated once kept: each read builds a new dict)."""

    database: str
    snapshot: str
    deletions: int
    counts: Counts


@dataclass(frozen=True)
class Read:
    """What `oms_order_start` said of the backlog: its snapshot, deletion count and
    identity, the transaction's id at the read (None: it had none), and the rows it
    returned."""

    snapshot: str
    deletions: int
    database: str
    transaction: int | None
    moved: Sequence[Sequence[Any]]  # (kind, location, open lines)


class KeptBacklog:
    """The kept reads of the current thread, one per engine (database URL)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _kept(self) -> dict[Hashable, Kept]:
        kept = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = {}
        return kept

    def seen(self, key: Hashable) -> str | None:
        """The snapshot to ask for changes since (None: ask for every row)."""
        kept = self._kept().get(key)
        return kept.snapshot if kept else None

    def counts(self, key: Hashable, read: Read,
               read_in_full: Callable[[], tuple[str, int, Sequence[Sequence[Any]]]]
               ) -> Counts:
        """The non-zero counts as the read's snapshot sees them (`read_in_full` when the
        kept rows cannot be used), kept for the next read when that is safe."""
        kept = self._kept()
        before = kept.pop(key, None)  # the read asked for changes since its snapshot
        if before is not None and (read.deletions < 0 or (before.database, before.deletions)
                                   != (read.database, read.deletions)):
            before = None  # another database, rows deleted since, or no count: read them all
            read = _in_full(read, read_in_full())
        now = _laid_over(before, read)
        if read.transaction is None:
            kept[key] = now
        elif before is not None:
            kept[key] = before  # the next read asks again since the earlier snapshot
        return now.counts

    def forget(self) -> None:
        """Drop this thread's kept reads (tests; a restore under the same URL)."""
        self._kept().clear()


def _in_full(read: Read, full: tuple[str, int, Sequence[Sequence[Any]]]) -> Read:
    snapshot, deletions, moved = full
    return Read(snapshot, deletions, read.database, read.transaction, moved)


def _laid_over(before: Kept | None, read: Read) -> Kept:
    """The read's rows laid over the kept ones (a new Counts: the kept one is not changed)."""
    moved = [row[1] for row in read.moved]
    counts = (Counts(before.counts, before.counts, moved) if before else Counts({}))
    for _kind, location, open_lines in read.moved:
        if open_lines:
            counts[location] = int(open_lines)
        else:
            counts.pop(location, None)
    return Kept(read.database, read.snapshot, read.deletions, counts)
