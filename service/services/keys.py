"""API keys: created with a role, stored as a hash, verified per request."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from sqlalchemy import select

from service.context import Context
from service.domain.roles import Role
from service.store.models import ApiKey

_CACHE_SECONDS = 30.0


def hash_key(key: str) -> str:
    """SHA-256 of a key: the only form stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(ctx: Context, role: str, label: str | None = None) -> str:
    """Store a new key for role (validated) and return its clear text, shown once."""
    parsed = Role.parse(role)
    key = "oms_" + secrets.token_urlsafe(32)
    with ctx.sessions.begin() as session:
        session.add(ApiKey(key_hash=hash_key(key), prefix=key[:10], role=str(parsed), label=label))
    return key


class KeyVerifier:
    """Looks keys up by hash, caching answers briefly so hot reads skip the database."""

    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._cache: dict[str, tuple[float, Role | None]] = {}
        self._lock = threading.Lock()

    def role_for(self, key: str) -> Role | None:
        """The role of a valid, unrevoked key; None otherwise."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
        role = self._lookup(digest)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + _CACHE_SECONDS, role)
        return role

    def _lookup(self, digest: str) -> Role | None:
        with self._ctx.sessions() as session:
            row = session.scalars(
                select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            ).first()
        return Role.parse(row.role) if row else None
