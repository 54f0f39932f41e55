"""API keys, stored as hashes only; the per-request lookup in one autocommit statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.store import kept_connections
from service.store.db import read_only
from service.store.errors import unavailable, unreachable
from service.store.models import ApiKey

# Every request looks its key up (no per-process cache): a revoked key is refused by the next
# request of every process. On PostgreSQL the text runs on the kept connection (as the
# availability lookup does): one round trip through the key_hash unique index.
_PG_ROLE = "SELECT role FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL"
_ROLE = select(ApiKey.role).where(ApiKey.key_hash == bindparam("digest"),
                                  ApiKey.revoked_at.is_(None))


def role_of_key(engine: Engine, key_hash: str) -> str | None:
    """The role of the unrevoked key with this hash, as last committed (None: no such key).
    A database that cannot be reached raises service.errors.Unavailable."""
    try:
        if engine.dialect.name == "postgresql":
            return kept_connections.run(engine, lambda conn: _pg_role(conn, key_hash))
        with read_only(engine) as conn:
            return conn.execute(_ROLE, {"digest": key_hash}).scalar()
    except (DBAPIError, psycopg.OperationalError) as exc:
        if unreachable(exc):
            raise unavailable() from exc
        raise


def _pg_role(conn: psycopg.Connection, key_hash: str) -> str | None:
    with conn.cursor() as cursor:
        cursor.execute(_PG_ROLE, (key_hash,))
        row = cursor.fetchone()
    return None if row is None else row[0]


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
        self.session.execute(update(table).where(table.c.id == key_id,
                                                 table.c.revoked_at.is_(None))
                             .values(revoked_at=now))
        return self.session.scalar(select(table.c.revoked_at).where(table.c.id == key_id))

    def all(self) -> list[dict[str, Any]]:
        """Every key (never its hash), oldest first."""
        return [{"id": k.id, "prefix": k.prefix, "role": k.role, "label": k.label,
                 "created_at": k.created_at, "revoked_at": k.revoked_at}
                for k in self.session.scalars(select(ApiKey).order_by(ApiKey.id))]
