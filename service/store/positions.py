"""The stock ledger's positions: read, lock and write them (one repository, per transaction)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, any_, bindparam, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.clock import Clock
from service.store import (
    allocation_pg,
    bulk_counts,
    order_saves_pg,
    orders_pg,
    position_diff,
    position_reads,
    work_mem,
)
from service.store.models import LocationStockState, StockPosition
from service.store.order_aggregate_rows import OrderSave
from service.store.position_diff import LocationDiff
from service.store.position_reads import StockAt
from service.store.position_rows import (
    NEVER_COUNTED,
    PositionRow,
    position_columns,
    position_row,
    row_locking,
)
from service.store.upsert import insert_for

T = TypeVar("T")
Key = tuple[str, str]  # (location_id, sku)
_CHUNK = 2000
BULK_ROWS = 1000  # PostgreSQL: from this many rows, counts go by COPY and skip the lock pass


class PositionRepository:
    """Positions of one transaction. Writers lock positions in id order (no deadlocks)."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    @property
    def row_locking(self) -> bool:
        """Whether this database locks rows (PostgreSQL) rather than the whole database."""
        return row_locking(self.session)

    def fetch(self, keys: Iterable[Key], lock: bool = False) -> dict[Key, PositionRow]:
        """Positions for (location, sku) keys; locked for update (in id order) when asked."""
        sp, cols = position_columns()
        out: dict[Key, PositionRow] = {}
        ordered = sorted(set(keys))
        for start in range(0, len(ordered), _CHUNK):
            query = select(*cols).where(
                tuple_(sp.c.location_id, sp.c.sku).in_(ordered[start:start + _CHUNK]))
            if lock and self.row_locking:
                query = query.order_by(sp.c.id).with_for_update()
            out.update({(r[1], r[2]): position_row(r) for r in self.session.execute(query)})
        return out

    def lock_ids(self, ids: Sequence[int]) -> dict[int, PositionRow]:
        """Lock positions by id (in id order) and return their current values."""
        sp, cols = position_columns()
        ordered = sorted(ids)
        if ordered and self.row_locking:  # PostgreSQL: one statement, the ids as one array
            query = select(*cols).where(sp.c.id == any_(bindparam("ids", type_=ARRAY(Integer)))
                                        ).order_by(sp.c.id).with_for_update()
            return {r[0]: position_row(r) for r in self.session.execute(query, {"ids": ordered})}
        out: dict[int, PositionRow] = {}
        for start in range(0, len(ordered), _CHUNK):
            query = select(*cols).where(sp.c.id.in_(ordered[start:start + _CHUNK]))
            out.update({r[0]: position_row(r) for r in self.session.execute(query)})
        return out

    def ids_for(self, keys: Iterable[Key]) -> dict[Key, int]:
        """Ids of the positions for (location, sku) keys (missing keys are left out)."""
        wanted = set(keys)
        if not wanted:
            return {}
        sp = StockPosition.__table__
        query = select(sp.c.id, sp.c.location_id, sp.c.sku).where(
            sp.c.sku.in_({sku for _location, sku in wanted}),
            sp.c.location_id.in_({location for location, _sku in wanted}))
        return {(r[1], r[2]): r[0] for r in self.session.execute(query)
                if (r[1], r[2]) in wanted}

    def ensure(self, keys: Iterable[Key]) -> None:
        """Create empty positions for keys that have none (concurrent creators do not collide).

        An empty position (0 on hand, never counted) means what a missing one means, so the
        caller can then lock every key it will change.
        """
        now = self.clock.now()
        rows = [{"location_id": loc, "sku": sku, "on_hand": 0, "as_of": NEVER_COUNTED,
                 "allocated": 0, "reserved": 0, "updated_at": now} for loc, sku in sorted(keys)]
        sp = StockPosition.__table__
        for start in range(0, len(rows), _CHUNK):
            stmt = insert_for(self.session, sp).values(rows[start:start + _CHUNK])
            self.session.execute(
                stmt.on_conflict_do_nothing(index_elements=["location_id", "sku"]))

    def write_counts(self, rows: Sequence[PositionRow]) -> None:
        """Store on_hand and as_of of existing positions; insert the new ones."""
        sp = StockPosition.__table__
        now = self.clock.now()
        existing = [r for r in rows if r.id is not None]
        new = [{"location_id": r.location_id, "sku": r.sku, "on_hand": r.on_hand,
                "as_of": r.as_of, "allocated": 0, "reserved": 0, "updated_at": now}
               for r in rows if r.id is None]
        if self.row_locking and len(existing) >= BULK_ROWS:
            bulk_counts.write_counts_copy(self.session, existing, now)
        elif existing:
            stmt = update(sp).where(sp.c.id == bindparam("pid")).values(
                on_hand=bindparam("on_hand"), as_of=bindparam("as_of"),
                updated_at=bindparam("updated_at"))
            self.session.connection().execute(stmt, [
                {"pid": r.id, "on_hand": r.on_hand, "as_of": r.as_of, "updated_at": now}
                for r in existing])
        if new:
            self.session.execute(insert(sp), new)

    def store(self, rows: Sequence[PositionRow]) -> None:
        """Store on_hand, allocated, reserved and as_of of locked positions."""
        sp = StockPosition.__table__
        stmt = update(sp).where(sp.c.id == bindparam("pid")).values(
            on_hand=bindparam("on_hand"), allocated=bindparam("allocated"),
            reserved=bindparam("reserved"), as_of=bindparam("as_of"),
            updated_at=self.clock.now())
        self.session.connection().execute(stmt, [
            {"pid": r.id, "on_hand": r.on_hand, "allocated": r.allocated,
             "reserved": r.reserved, "as_of": r.as_of} for r in rows])

    def mark_shipped(self, ids: Sequence[int], at: datetime) -> None:
        """Record a shipment at `at` from these positions (a count before it is stale)."""
        sp = StockPosition.__table__
        self.session.execute(update(sp).where(
            sp.c.id.in_(list(ids)),
            or_(sp.c.last_shipped_at.is_(None), sp.c.last_shipped_at < at),
        ).values(last_shipped_at=at))

    def diff_counts(self, counts: Mapping[str, Mapping[str, int]],
                    max_work_mem_mb: int = work_mem.DEFAULT_MAX_MB) -> dict[str, LocationDiff]:
        """How the stored positions differ from the wanted counts ({location: {sku: n}});
        on PostgreSQL the diff's work_mem is sized to the counts, at most max_work_mem_mb."""
        return position_diff.diff_counts(self.session, counts, max_work_mem_mb)

    def update_counts_unless_moved(self, changes: Sequence[tuple[PositionRow, int, datetime]],
                                   meanwhile: Callable[[], T] | None = None
                                   ) -> tuple[dict[int, tuple[int, int]], T | None]:
        """PostgreSQL: write counts of positions still as read (see bulk_counts)."""
        return bulk_counts.update_counts_unless_moved(self.session, changes, self.clock.now(),
                                                      meanwhile)

    def snapshot_times(self, location_ids: Iterable[str]) -> dict[str, datetime | None]:
        """The as_of of each location's newest applied snapshot."""
        table = LocationStockState.__table__
        ids = sorted(set(location_ids))
        rows = self.session.execute(select(table.c.location_id, table.c.snapshot_as_of)
                                    .where(table.c.location_id.in_(ids)))
        found = {r[0]: r[1] for r in rows}
        return {loc: found.get(loc) for loc in ids}

    def record_snapshot_times(self, times: Mapping[str, datetime]) -> None:
        """Remember each location's newest snapshot time (never moving one backwards)."""
        table = LocationStockState.__table__
        items = sorted(times.items())
        for start in range(0, len(items), 500):
            chunk = [{"location_id": loc, "snapshot_as_of": as_of}
                     for loc, as_of in items[start:start + 500]]
            stmt = insert_for(self.session, table).values(chunk)
            newer = stmt.excluded.snapshot_as_of
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["location_id"], set_={"snapshot_as_of": newer},
                where=(table.c.snapshot_as_of.is_(None)) | (table.c.snapshot_as_of < newer)))

    def allocate_if_unchanged(self, seen: Sequence[allocation_pg.Seen],
                              deltas: Mapping[tuple[str, str], int], ruleset: str,
                              order: orders_pg.PendingOrder | None = None
                              ) -> allocation_pg.Outcome:
        """PostgreSQL: allocate and move the ATS in one statement if no position moved
        since it was read (see allocation_pg); with `order` (`OrderRepository.pending`),
        the same statement inserts it when it takes the units (see orders_pg)."""
        if order is not None:
            return orders_pg.allocate_and_insert(self.session, seen, deltas, ruleset,
                                                 self.clock.now(), order)
        return allocation_pg.allocate_if_unchanged(self.session, seen, deltas, ruleset,
                                                   self.clock.now())

    def allocate_and_save(self, seen: Sequence[allocation_pg.Seen],
                          deltas: Mapping[tuple[str, str], int], ruleset: str,
                          save: OrderSave, wake: Sequence[str]) -> order_saves_pg.Saved:
        """PostgreSQL: allocate_if_unchanged, and when it takes the units, in the same
        statement the order's save (`OrderRepository.unsaved`) and the wakeups of `wake`
        (see order_saves_pg)."""
        return order_saves_pg.allocate_and_save(self.session, seen, deltas, ruleset,
                                                self.clock.now(), save, wake)

    def at(self, skus: Sequence[str], location_ids: Sequence[str]) -> list[StockAt]:
        """The positions of skus at location_ids, not locked (sourcing's candidate reads)."""
        return position_reads.positions_at(self.session, skus, location_ids)

    def of_skus(self, skus: Sequence[str], location: str | None = None
                ) -> list[tuple[str, str, int, int, int]]:
        """(location, sku, on_hand, allocated, reserved) of skus, by sku then location."""
        sp = StockPosition.__table__
        query = select(sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated, sp.c.reserved
                       ).where(sp.c.sku.in_(skus)).order_by(sp.c.sku, sp.c.location_id)
        if location is not None:
            query = query.where(sp.c.location_id == location)
        return [tuple(r) for r in self.session.execute(query)]  # type: ignore[misc]

    def of_sku(self, sku: str, location: str | None = None) -> list[PositionRow]:
        """Every position of a sku (or its one position at a location), not locked."""
        sp, cols = position_columns()
        query = select(*cols).where(sp.c.sku == sku)
        if location:
            query = query.where(sp.c.location_id == location)
        return [position_row(r) for r in self.session.execute(query)]

    def insert(self, rows: Iterable[tuple[str, str, int]], as_of: datetime) -> int:
        """Insert new positions (location, sku, on_hand) counted at as_of; how many."""
        values: list[dict[str, Any]] = [
            {"location_id": loc, "sku": sku, "on_hand": qty, "as_of": as_of, "allocated": 0,
             "reserved": 0, "updated_at": as_of} for loc, sku, qty in rows]
        if values:
            self.session.execute(insert(StockPosition), values)
        return len(values)
