"""API keys: created with a role, stored as a hash, verified on every request, revoked
(refused from the next request of every process)."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.errors import NotFound
from service.store.keys import verify_key

if TYPE_CHECKING:
    from service.services.context import Context


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


def revoke_key(ctx: Context, key_id: int) -> datetime:
    """Revoke a key: the next request with it, to any process, is refused (401). Revoking a
    revoked key changes nothing; when it was revoked, or 404 for no such key."""
    with ctx.transaction() as uow:
        revoked_at = uow.keys.revoke(key_id, ctx.clock.now())
    if revoked_at is None:
        raise NotFound(f"No API key {key_id}.")
    return revoked_at


def list_keys(ctx: Context) -> list[dict[str, Any]]:
    """Every key: id, prefix (its first characters), role, label, created, revoked."""
    with ctx.reading() as uow:
        return uow.keys.all()


@lru_cache(maxsize=1024)
def _role(text: str) -> Role:
    return Role.parse(text)


@dataclass(frozen=True)
class Verified:
    """A request's key: its role, read in this request (`fresh`) or taken from the process's
    cache, where it was read at `keys` cache version `version`."""

    role: Role
    digest: str
    version: int
    fresh: bool


# Confirms the request's key against the `keys` cache version a statement of the request
# read (None: no statement read it, so read the key now); raises 401 when it was revoked.
Confirm = Callable[[int | None], None]

_MAX_CACHED = 10_000


class KeyVerifier:
    """Looks keys up by hash. A request's key is read from the database with the `keys`
    cache version (which every revocation bumps in its transaction), unless the request's
    first statement reads that version itself (the availability lookup): then the role
    cached by this process serves, confirmed by that version, and a revoked key is still
    refused by the next request of every process."""

    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._cache: dict[str, tuple[Role, int]] = {}
        self._lock = threading.Lock()

    def role_for(self, key: str) -> Role | None:
        """The role of a valid, unrevoked key (read now); None otherwise."""
        verified = self.verify(key)
        return None if verified is None else verified.role

    def verify(self, key: str, deferred: bool = False) -> Verified | None:
        """The key read now; with `deferred`, the process's cached role when it has one
        (the caller must `confirm` it). None: no such key, or revoked."""
        digest = hash_key(key)
        if deferred:
            hit = self._cache.get(digest)
            if hit is not None:
                return Verified(hit[0], digest, hit[1], fresh=False)
        return self._read(digest)

    def confirm(self, verified: Verified, version: int | None) -> bool:
        """Whether the key is still valid, given the `keys` version a statement just read."""
        if verified.fresh or (version is not None and version == verified.version):
            return True
        return self._read(verified.digest) is not None

    def _read(self, digest: str) -> Verified | None:
        version, text = verify_key(self._ctx.engine, digest)
        with self._lock:
            if text is None:
                self._cache.pop(digest, None)
                return None
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            role = _role(text)
            self._cache[digest] = (role, version)
        return Verified(role, digest, version, fresh=True)
