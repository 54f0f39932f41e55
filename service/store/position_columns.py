"""What a per-process columnar copy of the positions reads: every position once, then the
inventory journal's rows since (each change of a position's counts writes one, in its
transaction, by trigger) and the current counts of the positions they name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import and_, func, select, text, tuple_
from sqlalchemy.orm import Session

from service.store.models import InventoryJournalEntry, StockPosition

PositionKey = tuple[str, str]  # (location_id, sku)
Counts = tuple[str, str, int, int, int]  # location_id, sku, on_hand, allocated, reserved
KEYS_PER_STATEMENT = 500
SKU_SEPARATOR = "\x1f"  # the unit separator; a SKU holding it is read without packing
CountColumns = tuple[Sequence[str], Sequence[str], np.ndarray, np.ndarray]  # + on hand, free


def _unpack_binary(packed: bytes) -> np.ndarray:
    return np.frombuffer(packed, ">i8").astype(np.int64)


def _unpack_text(packed: str) -> np.ndarray:
    return np.fromstring(packed, dtype=np.int64, sep=",")


class PositionColumnsSource:
    """The reads of one transaction that build and refresh the columnar copy."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all_count_columns(self) -> Iterator[CountColumns]:
        """Every position's (location id, SKU, on hand, free), in batches of columns, read
        in one statement with no row (nor Python int) built per position: one row per
        location, its SKUs joined by a separator and its counts packed (PostgreSQL: 8-byte
        big-endian integers; SQLite: decimal text), unpacked by numpy."""
        sp = StockPosition.__table__
        postgres = self.session.get_bind().dialect.name == "postgresql"
        packed = ("string_agg(int8send({}), ''::bytea)" if postgres
                  else "group_concat({}, ',')")
        wide = "CAST(on_hand AS BIGINT)"  # the difference in 64 bits, as numpy keeps it
        joined = "string_agg" if postgres else "group_concat"
        rows = self.session.execute(text(
            f"SELECT location_id, {joined}(sku, :separator), "
            f"{packed.format(wide)}, {packed.format(f'{wide} - allocated - reserved')} "
            f"FROM {sp.name} GROUP BY location_id"), {"separator": SKU_SEPARATOR})
        unpack = _unpack_binary if postgres else _unpack_text
        for location_id, skus_joined, on_hand, free in rows:
            skus = skus_joined.split(SKU_SEPARATOR)
            counted, available = unpack(on_hand), unpack(free)
            if not len(skus) == counted.shape[0] == available.shape[0]:  # a SKU holds the
                yield from self._plain_counts_at(location_id)  # separator: read it plainly
                continue
            yield [location_id] * len(skus), skus, counted, available

    def _plain_counts_at(self, location_id: str) -> Iterator[CountColumns]:
        sp = StockPosition.__table__
        rows = self.session.execute(
            select(sp.c.sku, sp.c.on_hand, sp.c.allocated, sp.c.reserved)
            .where(sp.c.location_id == location_id)).all()
        yield ([location_id] * len(rows), [r[0] for r in rows],
               np.array([r[1] for r in rows], np.int64).reshape(-1),
               np.array([r[1] - r[2] - r[3] for r in rows], np.int64).reshape(-1))

    def journal_ids(self, above: int) -> list[int]:
        """The ids of the journal rows above an id (the rows a copy has seen, at its load)."""
        j = InventoryJournalEntry.__table__
        return list(self.session.scalars(select(j.c.id).where(j.c.id > above)))

    def newest_journal_id(self) -> int:
        """The newest journal row's id (0 before the first)."""
        j = InventoryJournalEntry.__table__
        return int(self.session.scalar(select(func.coalesce(func.max(j.c.id), 0))) or 0)

    def journal_since(self, after: int, window_from: int) -> tuple[list[tuple[int, str, str]],
                                                                   int]:
        """(id, location_id, sku) of every journal row above an id, and how many rows have
        ids in (window_from, after], in one statement."""
        j = InventoryJournalEntry.__table__
        counted = (select(func.count().label("n")).select_from(j)
                   .where(and_(j.c.id > window_from, j.c.id <= after)).subquery())
        rows = self.session.execute(
            select(counted.c.n, j.c.id, j.c.location_id, j.c.sku)
            .select_from(counted.outerjoin(j, j.c.id > after)).order_by(j.c.id)).all()
        return ([(int(r[1]), r[2], r[3]) for r in rows if r[1] is not None],
                int(rows[0][0]) if rows else 0)

    def journal_rows(self, ids: Sequence[int]) -> list[tuple[int, str, str]]:
        """(id, location_id, sku) of the given journal rows."""
        j = InventoryJournalEntry.__table__
        found: list[tuple[int, str, str]] = []
        for start in range(0, len(ids), KEYS_PER_STATEMENT):
            rows = self.session.execute(select(j.c.id, j.c.location_id, j.c.sku).where(
                j.c.id.in_(list(ids[start:start + KEYS_PER_STATEMENT]))))
            found += [(int(r[0]), r[1], r[2]) for r in rows]
        return found

    def counts_of(self, keys: Sequence[PositionKey]) -> list[Counts]:
        """The current counts of these positions (a missing one is left out)."""
        sp = StockPosition.__table__
        found: list[Any] = []
        for start in range(0, len(keys), KEYS_PER_STATEMENT):
            chunk = list(keys[start:start + KEYS_PER_STATEMENT])
            found += self.session.execute(
                select(sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated, sp.c.reserved)
                .where(tuple_(sp.c.location_id, sp.c.sku).in_(chunk))).all()
        return [(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in found]
