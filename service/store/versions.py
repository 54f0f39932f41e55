"""Cache versions: a writer bumps the version of what it changed in its own transaction; a
process holding a copy compares versions before it trusts the copy."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.store.models import CacheVersion


class CacheVersions:
    """The versions of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self, name: str) -> int:
        """The committed version of a cached thing (as this transaction sees it)."""
        return int(self.session.scalar(
            select(CacheVersion.version).where(CacheVersion.name == name)) or 0)

    def bump(self, name: str) -> None:
        """Move the version on: every process's copy is stale once this commits.

        On PostgreSQL the row stays locked until the transaction ends, so bumps of one name
        commit one after another; readers do not wait.
        """
        table = CacheVersion.__table__
        done = self.session.execute(update(table).where(table.c.name == name)
                                    .values(version=table.c.version + 1))
        if done.rowcount == 0:  # a database made without the seed row (tests' create_all)
            self.session.add(CacheVersion(name=name, version=1))
            self.session.flush()
