"""The kept available-to-sell per channel and SKU (`channel_availability`): lock, add, recompute.

Every row names the ruleset that made it. Writers lock the rows they move in (channel, sku)
order, after the positions, so two writers never wait on each other crosswise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    bindparam,
    case,
    delete,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from service.clock import Clock
from service.rules.model import Ruleset
from service.store.ats_queries import recompute_query
from service.store.models import ChannelAvailability
from service.store.models.base import naive_utc
from service.store.upsert import insert_for

Key = tuple[str, str]  # (channel, sku)
BULK_KEYS = 500  # PostgreSQL: from this many rows, lock and add through arrays


class AtsRepository:
    """The kept ATS rows of one transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def _bulk(self, keys: list[Key]) -> bool:
        return len(keys) >= BULK_KEYS and self.session.get_bind().dialect.name == "postgresql"

    def lock(self, keys: list[Key]) -> dict[Key, str]:
        """Lock the rows of keys (in key order); the ruleset each was made by."""
        if self._bulk(keys):
            return self._lock_bulk(keys)
        table = ChannelAvailability.__table__
        found: dict[Key, str] = {}
        for start in range(0, len(keys), 1000):
            query = (select(table.c.channel, table.c.sku, table.c.ruleset)
                     .where(tuple_(table.c.channel, table.c.sku).in_(keys[start:start + 1000]))
                     .order_by(table.c.channel, table.c.sku))
            if self.session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
            found.update({(r[0], r[1]): r[2] for r in self.session.execute(query)})
        return found

    def _lock_bulk(self, keys: list[Key]) -> dict[Key, str]:
        """PostgreSQL: lock in one statement, the keys as two arrays (same key order)."""
        rows = self.session.execute(text(
            "SELECT f.channel, f.sku, f.ruleset FROM channel_availability AS f"
            " JOIN unnest(CAST(:c AS text[]), CAST(:s AS text[])) AS k(channel, sku)"
            " ON f.channel = k.channel AND f.sku = k.sku"
            " ORDER BY f.channel, f.sku FOR UPDATE OF f"),
            {"c": [k[0] for k in keys], "s": [k[1] for k in keys]})
        return {(r[0], r[1]): r[2] for r in rows}

    def add(self, keys: list[Key], deltas: Mapping[Key, int]) -> None:
        """Add the deltas to (already locked) rows; a row never goes below 0."""
        if not keys:
            return
        now = self.clock.now()
        if self._bulk(keys):
            self.session.execute(text(
                "UPDATE channel_availability AS f"
                " SET available = greatest(f.available + d.delta, 0), updated_at = :now"
                " FROM unnest(CAST(:c AS text[]), CAST(:s AS text[]), CAST(:d AS bigint[]))"
                " AS d(channel, sku, delta) WHERE f.channel = d.channel AND f.sku = d.sku"),
                {"c": [k[0] for k in keys], "s": [k[1] for k in keys],
                 "d": [deltas[k] for k in keys], "now": naive_utc(now)})
            return
        table = ChannelAvailability.__table__
        summed = table.c.available + bindparam("delta")
        stmt = (update(table)
                .where(table.c.channel == bindparam("c"), table.c.sku == bindparam("s"))
                .values(available=case((summed > 0, summed), else_=0), updated_at=now))
        self.session.connection().execute(
            stmt, [{"c": c, "s": s, "delta": deltas[(c, s)]} for c, s in keys])

    def insert_missing(self, ruleset: str, deltas: Mapping[Key, int]) -> set[str]:
        """Insert rows that did not exist (or add to ones a racing writer just made);
        the skus whose row belongs to another ruleset."""
        table = ChannelAvailability.__table__
        stale_skus: set[str] = set()
        for (channel, sku), delta in sorted(deltas.items()):
            stmt = insert_for(self.session, table).values(
                channel=channel, sku=sku, available=max(0, delta), ruleset=ruleset,
                updated_at=self.clock.now())
            summed = table.c.available + delta
            stmt = stmt.on_conflict_do_update(
                index_elements=["channel", "sku"],
                set_={"available": case((summed > 0, summed), else_=0),
                      "updated_at": stmt.excluded.updated_at},
                where=table.c.ruleset == ruleset)
            if self.session.execute(stmt).rowcount == 0:
                stale_skus.add(sku)
        return stale_skus

    def ensure(self, ruleset: str, keys: list[Key]) -> None:
        """Insert a 0 row for each key that has none (one made by a racing transaction is
        waited for, then left as it is), so the keys can all be locked."""
        if not keys:
            return
        table = ChannelAvailability.__table__
        now = self.clock.now()
        rows = [{"channel": c, "sku": s, "available": 0, "ruleset": ruleset, "updated_at": now}
                for c, s in sorted(keys)]
        for start in range(0, len(rows), 1000):
            self.session.execute(insert_for(self.session, table).values(
                rows[start:start + 1000]).on_conflict_do_nothing(
                index_elements=["channel", "sku"]))

    def recompute(self, ruleset: Ruleset, skus: list[str] | None = None) -> int:
        """Recompute rows set-based for skus (default: all) with the compiled SQL rules."""
        table = ChannelAvailability.__table__
        if skus is not None:
            self.session.execute(delete(table).where(table.c.sku.in_(skus)))
        else:
            self.session.execute(delete(table))
        rows = self._computed(ruleset, skus)
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(table), rows[start:start + 5000])
        return len(rows)

    def refresh(self, ruleset: Ruleset, skus: list[str]) -> int:
        """Recompute the rows of skus in place (each row updated, never deleted: a writer
        waiting on its lock then locks its new version, so refreshes take turns)."""
        table = ChannelAvailability.__table__
        rows = self._computed(ruleset, skus)
        for start in range(0, len(rows), 1000):
            stmt = insert_for(self.session, table).values(rows[start:start + 1000])
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["channel", "sku"],
                set_={"available": stmt.excluded.available, "ruleset": stmt.excluded.ruleset,
                      "updated_at": stmt.excluded.updated_at}))
        return len(rows)

    def _computed(self, ruleset: Ruleset, skus: list[str] | None) -> list[dict[str, Any]]:
        channels = sorted(ruleset.channels)
        now = self.clock.now()
        return [{"channel": channel, "sku": row[0], "available": int(row[i + 1] or 0),
                 "ruleset": ruleset.ref, "updated_at": now}
                for row in self.session.execute(recompute_query(ruleset, channels, skus, now))
                for i, channel in enumerate(channels)]

    def figures(self, keys: list[Key]) -> dict[Key, int]:
        """The kept units of some (channel, sku) rows, unlocked (for reports)."""
        table = ChannelAvailability.__table__
        if not keys:
            return {}
        return {(r[0], r[1]): r[2] for r in self.session.execute(
            select(table.c.channel, table.c.sku, table.c.available)
            .where(tuple_(table.c.channel, table.c.sku).in_(keys)))}

    def all(self) -> dict[Key, int]:
        """Every kept row's units (for checks and tests)."""
        table = ChannelAvailability.__table__
        return {(r[0], r[1]): r[2] for r in self.session.execute(
            select(table.c.channel, table.c.sku, table.c.available))}
