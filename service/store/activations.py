"""Ruleset activations: which version is active, who switched it, and the switch lock.

The switch lock (a PostgreSQL advisory lock) is taken shared by every transaction that reads
the active ruleset to move ATS, and exclusively by a switch, so a switch never recomputes the
ATS between another transaction's reading of the ruleset and its ATS deltas. On SQLite every
writer already holds the database lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.store.models import RulesetActivation

_SWITCH_LOCK = 0x0A5F1C0  # one advisory lock key: "the active ruleset and its ATS"
# PostgreSQL: the shared lock and the newest activation in one round trip (migration 0005)
_ACTIVE_AFTER_LOCK = text("SELECT name, version FROM oms_active_ruleset()")


class ActivationRepository:
    """The activation history of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._locked: tuple[tuple[str, int] | None] | None = None  # read with the lock

    def remember_locked(self, row: tuple[str, int] | None) -> None:
        """The newest activation another statement of this transaction read after taking
        the switch lock (`oms_order_start()`): active_locked() answers it, no round trip."""
        self._locked = (row,)

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def active_locked(self) -> tuple[str, int] | None:
        """The switch lock (shared) and then the newest activation's name and version."""
        if self._locked is not None:
            return self._locked[0]
        if self._postgres():
            row = self.session.execute(_ACTIVE_AFTER_LOCK).first()
        else:
            row = self.session.execute(select(RulesetActivation.name, RulesetActivation.version)
                                       .order_by(RulesetActivation.id.desc()).limit(1)).first()
        return None if row is None else (row[0], row[1])

    def lock_for_switch(self) -> None:
        """Wait for every ATS writer to finish and keep new ones out until this transaction
        ends (a switch, or a master-data change that recomputes every ATS)."""
        if self._postgres():
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": _SWITCH_LOCK})

    def latest(self) -> RulesetActivation | None:
        """The newest activation, if any."""
        found = self.history(1)
        return found[0] if found else None

    def history(self, limit: int) -> list[RulesetActivation]:
        """The newest activations, newest first."""
        return list(self.session.scalars(
            select(RulesetActivation).order_by(RulesetActivation.id.desc()).limit(limit)))

    def add(self, name: str, version: int, content_hash: str, previous: str | None, who: str,
            at: datetime, key_id: str | None = None) -> RulesetActivation:
        """Record an activation (flushed: it is the active one for this transaction)."""
        row = RulesetActivation(name=name, version=version, content_hash=content_hash,
                                previous=previous, activated_by=who, activated_at=at,
                                key_id=key_id)
        self.session.add(row)
        self.session.flush()
        return row
