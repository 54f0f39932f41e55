"""API keys, stored as hashes only; a key's role and the `keys` cache version, read together
in one autocommit statement; revocation bumps that version in its transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.store import kept_connections
from service.store.db import read_only
from service.store.errors import unavailable, unreachable
from service.store.models import ApiKey, CacheVersion
from service.store.models.versions import KEYS
from service.store.versions import CacheVersions

# A key's role and the `keys` cache version in one statement (always one row: a version
# row missing is version 0). On PostgreSQL the text runs on the kept connection (as the
# availability lookup does): one round trip through the key_hash unique index.
_PG_VERIFY = (
    "SELECT COALESCE((SELECT v.version FROM cache_versions AS v WHERE v.name = 'keys'), 0),"
    " (SELECT k.role FROM api_keys AS k WHERE k.key_hash = %s AND k.revoked_at IS NULL)")


def _verify_statement() -> Any:
    version = select(CacheVersion.version).where(CacheVersion.name == KEYS).scalar_subquery()
    role = select(ApiKey.role).where(ApiKey.key_hash == bindparam("digest"),
                                     ApiKey.revoked_at.is_(None)).scalar_subquery()
    return select(func.coalesce(version, 0), role)


_VERIFY = _verify_statement()


def verify_key(engine: Engine, key_hash: str) -> tuple[int, str | None]:
    """(the `keys` cache version, the role of the unrevoked key with this hash or None), as
    last committed, from one statement. A database that cannot be reached raises
    service.errors.Unavailable."""
    try:
        if engine.dialect.name == "postgresql":
            row = kept_connections.run(engine, lambda conn: _pg_verify(conn, key_hash))
        else:
            with read_only(engine) as conn:
                row = conn.execute(_VERIFY, {"digest": key_hash}).one()
    except (DBAPIError, psycopg.OperationalError) as exc:
        if unreachable(exc):
            raise unavailable() from exc
        raise
    return int(row[0]), row[1]


def _pg_verify(conn: psycopg.Connection, key_hash: str) -> Any:
    with conn.cursor() as cursor:
        cursor.execute(_PG_VERIFY, (key_hash,))
        return cursor.fetchone()


class KeyRepository:
    """API keys of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key_hash: str, prefix: str, role: str, label: str | None,
            created_at: datetime) -> int:
        """Store a key's hash with its role; its id."""
        key = ApiKey(key_hash=key_hash, prefix=prefix, role=role, label=label,
                     created_at=created_at)
        self.session.add(key)
        self.session.flush()
        return key.id

    def role_of(self, key_hash: str) -> str | None:
        """The role of an unrevoked key with this hash, if any."""
        return self.session.scalar(select(ApiKey.role).where(
            ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None)))

    def revoke(self, key_id: int, now: datetime) -> datetime | None:
        """Revoke a key (a revoked key keeps its first revocation time); when it was
        revoked, or None when there is no such key."""
        table = ApiKey.__table__
        done = self.session.execute(update(table).where(table.c.id == key_id,
                                                        table.c.revoked_at.is_(None))
                                    .values(revoked_at=now))
        if done.rowcount:
            CacheVersions(self.session).bump(KEYS)  # every process re-reads its cached keys
        return self.session.scalar(select(table.c.revoked_at).where(table.c.id == key_id))

    def all(self) -> list[dict[str, Any]]:
        """Every key (never its hash), oldest first."""
        return [{"id": k.id, "prefix": k.prefix, "role": k.role, "label": k.label,
                 "created_at": k.created_at, "revoked_at": k.revoked_at}
                for k in self.session.scalars(select(ApiKey).order_by(ApiKey.id))]
