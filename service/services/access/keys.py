"""API keys: created with a role, stored as a hash, verified per request."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import TYPE_CHECKING

from service.domain.roles import Role

if TYPE_CHECKING:
    from service.services.context import Context

_CACHE_SECONDS = 30.0


def hash_key(key: str) -> str:
    """SHA-256 of a key: the only form stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(ctx: Context, role: str, label: str | None = None) -> str:
    """Store a new key for role (validated) and return its clear text, shown once."""
    parsed = Role.parse(role)
    key = "oms_" + secrets.token_urlsafe(32)
    with ctx.transaction() as uow:
        uow.keys.add(hash_key(key), key[:10], str(parsed), label, ctx.clock.now())
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
        with self._ctx.reading() as uow:
            role = uow.keys.role_of(digest)
        return Role.parse(role) if role else None
