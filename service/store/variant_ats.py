"""The kept available-to-sell of each running experiment's variant rulesets
(`variant_availability`, keyed (ruleset, channel, sku)): the same figures the active
ruleset's `channel_availability` holds, computed set-based by the same compiled SQL.

A transaction that changed stock refreshes the rows of its SKUs once, just before it
commits: it makes the rows that are missing, locks them in key order, then recomputes them
from the positions. On PostgreSQL the recompute statement runs after the lock is granted, so
it reads every stock change committed by a transaction that held the rows before it (READ
COMMITTED takes a new snapshot per statement): two writers of one SKU never lose an update.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.orm import Session

from service.clock import Clock
from service.rules.model import Ruleset
from service.store.ats_queries import recompute_query
from service.store.models import VariantAvailability
from service.store.upsert import insert_for

Key = tuple[str, str, str]  # (ruleset, channel, sku)
_CHUNK = 1000


class VariantAtsRepository:
    """The variants' kept ATS rows of one transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def refresh(self, ruleset: Ruleset, skus: list[str] | None = None) -> int:
        """Recompute the ruleset's rows of skus (default: every sku), locked first when
        only some are recomputed; the number of rows written."""
        if skus is not None:
            if not skus:
                return 0
            keys = sorted((ruleset.ref, c, s) for c in ruleset.channels for s in set(skus))
            self._ensure(keys)
            self._lock(keys)
        rows = sorted(self._computed(ruleset, None if skus is None else sorted(set(skus))),
                      key=lambda r: (r["channel"], r["sku"]))  # key order, as locked
        table = VariantAvailability.__table__
        for start in range(0, len(rows), _CHUNK):
            stmt = insert_for(self.session, table).values(rows[start:start + _CHUNK])
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["ruleset", "channel", "sku"],
                set_={"available": stmt.excluded.available,
                      "updated_at": stmt.excluded.updated_at}))
        if skus is None and self.session.get_bind().dialect.name == "postgresql":
            # statistics for the lookup's plan now, not when autovacuum gets to it: on a
            # table it has never seen, the planner would scan it for every read
            self.session.execute(text("ANALYZE variant_availability"))
        return len(rows)

    def keep_only(self, refs: set[str]) -> None:
        """Delete the rows of rulesets no running experiment names any longer."""
        table = VariantAvailability.__table__
        self.session.execute(delete(table).where(table.c.ruleset.not_in(sorted(refs))))

    def all(self, ref: str) -> dict[tuple[str, str], int]:
        """Every kept row of one ruleset, (channel, sku) → units (for checks and tests)."""
        table = VariantAvailability.__table__
        return {(r[0], r[1]): r[2] for r in self.session.execute(
            select(table.c.channel, table.c.sku, table.c.available)
            .where(table.c.ruleset == ref))}

    def _ensure(self, keys: list[Key]) -> None:
        table = VariantAvailability.__table__
        now = self.clock.now()
        rows = [{"ruleset": r, "channel": c, "sku": s, "available": 0, "updated_at": now}
                for r, c, s in keys]
        for start in range(0, len(rows), _CHUNK):
            self.session.execute(insert_for(self.session, table).values(
                rows[start:start + _CHUNK]).on_conflict_do_nothing(
                index_elements=["ruleset", "channel", "sku"]))

    def _lock(self, keys: list[Key]) -> None:
        if self.session.get_bind().dialect.name != "postgresql":
            return  # SQLite: one writer at a time
        table = VariantAvailability.__table__
        for start in range(0, len(keys), _CHUNK):
            self.session.execute(
                select(table.c.sku)
                .where(tuple_(table.c.ruleset, table.c.channel, table.c.sku)
                       .in_(keys[start:start + _CHUNK]))
                .order_by(table.c.ruleset, table.c.channel, table.c.sku).with_for_update())

    def _computed(self, ruleset: Ruleset, skus: list[str] | None) -> list[dict[str, Any]]:
        channels = sorted(ruleset.channels)
        now = self.clock.now()
        return [{"ruleset": ruleset.ref, "channel": channel, "sku": row[0],
                 "available": int(row[i + 1] or 0), "updated_at": now}
                for row in self.session.execute(recompute_query(ruleset, channels, skus, now))
                for i, channel in enumerate(channels)]
