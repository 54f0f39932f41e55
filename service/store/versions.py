"""Cache versions: a writer bumps the version of what it changed in its own transaction; a
process holding a copy compares versions before it trusts the copy."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.store.models import CacheVersion
from service.store.models.versions import CACHED


class CacheVersions:
    """The versions of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._seen: dict[str, int] | None = None

    def current(self, name: str) -> int:
        """The version of a cached thing as this transaction first saw it: every version is
        read at once, in one statement, the first time any is asked for (a missing row is 0)."""
        if self._seen is None:
            self._seen = {n: int(v) for n, v in self.session.execute(
                select(CacheVersion.name, CacheVersion.version)
                .where(CacheVersion.name.in_(CACHED)))}
        return self._seen.get(name, 0)

    def remember(self, seen: dict[str, int]) -> None:
        """Versions another statement of this transaction read (missing ones are 0)."""
        if self._seen is None:
            self._seen = seen

    def bump(self, name: str) -> None:
        """Move the version on: every process's copy is stale once this commits.

        On PostgreSQL the row stays locked until the transaction ends, so bumps of one name
        commit one after another; readers do not wait.
        """
        table = CacheVersion.__table__
        done = self.session.execute(update(table).where(table.c.name == name)
                                    .values(version=table.c.version + 1))
        if done.rowcount == 0:  # a database whose seed rows were deleted (tests empty tables)
            self.session.add(CacheVersion(name=name, version=1))
            self.session.flush()
        self._seen = None
