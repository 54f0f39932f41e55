"""Open fulfilment lines per location (`location_backlog`), kept exact: moved in the
transaction that opens or closes lines (the order repository's `add` and `save`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Integer, bindparam, case, literal, select
from sqlalchemy.orm import Session

from service.domain.orders import OPEN_FULFILMENT
from service.store.activations import ActivationRepository
from service.store.backlog_kept import FULL_READ, KeptBacklog, Read
from service.store.db import driver
from service.store.models import CacheVersion, LocationBacklog
from service.store.models.versions import CACHED
from service.store.upsert import insert_for
from service.store.versions import CacheVersions


def open_lines(fulfilments: Iterable[tuple[str, str, int]]) -> Counter[str]:
    """Open lines per location of (location, status, line count) fulfilments."""
    counts: Counter[str] = Counter()
    for location, status, lines in fulfilments:
        if status in OPEN_FULFILMENT and lines:
            counts[location] += lines
    return counts


# PostgreSQL: the switch lock, the active ruleset, the journal's cause, the cache versions
# and the backlog rows moved since this thread's last read in one round trip (0028, 0034,
# 0035)
_ORDER_START_PG = ("SELECT kind, name, n FROM oms_order_start(%(cause)s, %(refs)s, %(at)s, "
                   "%(seen)s)")
KEPT = KeptBacklog()  # per thread and database: store/backlog_kept.py


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class Backlog:
    """The kept backlog of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._read: dict[str, int] | None = None
        self.started_order = False  # oms_order_start() ran: lock, ruleset and cause taken

    def per_location(self) -> dict[str, int]:
        """Open fulfilment lines per location (locations with none may be absent), as this
        transaction first read them."""
        if self._read is None:
            self._read = {loc: int(n) for loc, n in self.session.execute(
                select(LocationBacklog.location_id, LocationBacklog.open_lines)) if n}
        return self._read

    def read_with(self, versions: CacheVersions, activations: ActivationRepository | None = None,
                  journal: Mapping[str, str] | None = None) -> dict[str, int]:
        """per_location(), and every cache version for `versions`, in one statement (an
        order needs both: no round trip for the versions).

        On PostgreSQL, given `activations` and the journal's cause (`JournalRepository.cause`),
        the statement is `oms_order_start()`: it also takes the switch lock, reads the active
        ruleset for `activations` and names the journal's cause (migration 0028).
        """
        self.started_order = False  # True only when this call runs oms_order_start()
        if self._read is not None:
            return self._read
        if activations is not None and journal is not None and _postgres(self.session):
            return self._start_order(versions, activations, journal)
        table = LocationBacklog.__table__
        both = select(literal("b"), table.c.location_id, table.c.open_lines).union_all(
            select(literal("v"), CacheVersion.name, CacheVersion.version)
            .where(CacheVersion.name.in_(CACHED)))
        rows = self.session.execute(both).all()
        versions.remember({name: int(n) for kind, name, n in rows if kind == "v"})
        self._read = {loc: int(n) for kind, loc, n in rows if kind == "b" and n}
        return self._read

    def _start_order(self, versions: CacheVersions, activations: ActivationRepository,
                     journal: Mapping[str, str]) -> dict[str, int]:
        key = self.session.get_bind().url
        with driver(self.session).cursor() as cursor:  # plain tuples: one per location
            cursor.execute(_ORDER_START_PG, {**journal, "seen": KEPT.seen(key)})
            rows = cursor.fetchall()
        # the function returns the backlog rows last (the few rows before them are read in
        # Python, the moved rows laid over this thread's kept ones: store/backlog_kept.py)
        first = next((i for i, row in enumerate(rows) if row[0] == "b"), len(rows))
        head = rows[:first]
        active = [(name, int(n)) for kind, name, n in head if kind == "a"]
        activations.remember_locked(active[0] if active else None)
        self.started_order = True
        versions.remember({name: int(n) for kind, name, n in head
                           if kind == "v" and name in CACHED})
        snapshot, deletions = next((name, n) for kind, name, n in head if kind == "s")
        database, transaction = next((name, n) for kind, name, n in head if kind == "i")
        read = Read(snapshot, deletions, database, transaction, rows[first:])
        self._read = KEPT.counts(key, read, self._read_in_full)
        return self._read

    def _read_in_full(self) -> tuple[str, int, list[Any]]:
        """Every backlog row, with the snapshot and deletion count of the same statement."""
        with driver(self.session).cursor() as cursor:
            rows = cursor.execute(FULL_READ).fetchall()
        _, snapshot, deletions = next(row for row in rows if row[0] == "s")
        return snapshot, deletions, [row for row in rows if row[0] == "b"]

    def forget(self) -> None:
        """Read afresh next time (this transaction moved the counts)."""
        self._read = None

    def move(self, deltas: Mapping[str, int]) -> None:
        """Add each location's change, locations in id order (writers never deadlock); a
        count never goes below 0."""
        self.forget()
        rows = [{"location_id": loc, "open_lines": max(0, deltas[loc]), "delta": deltas[loc]}
                for loc in sorted(loc for loc, n in deltas.items() if n)]
        if rows:  # one executemany: a single pipelined round trip on psycopg
            self.session.execute(_move_statement(self.session), rows)


_MOVES: dict[str, Any] = {}  # the statement per dialect, built once


def _move_statement(session: Session) -> Any:
    """Upsert one location's count: inserted as max(0, delta), else moved by delta (>= 0)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _MOVES:
        _MOVES[dialect] = _build_move(session)
    return _MOVES[dialect]


def _build_move(session: Session) -> Any:
    table = LocationBacklog.__table__
    summed = table.c.open_lines + bindparam("delta", type_=Integer)
    return insert_for(session, table).values(
        location_id=bindparam("location_id"), open_lines=bindparam("open_lines")
    ).on_conflict_do_update(index_elements=["location_id"],
                            set_={"open_lines": case((summed > 0, summed), else_=0)})
