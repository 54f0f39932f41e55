"""API keys: created with a role, stored as a hash, verified on every request, revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from service.domain.roles import Role
from service.errors import NotFound
from service.store.keys import role_of_key

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


class KeyVerifier:
    """Looks each request's key up by hash: nothing is cached but the parsing of roles, so a
    revocation takes effect on the next request of every process."""

    def __init__(self, ctx: Context):
        self._ctx = ctx

    def role_for(self, key: str) -> Role | None:
        """The role of a valid, unrevoked key; None otherwise."""
        role = role_of_key(self._ctx.engine, hash_key(key))
        return _role(role) if role else None
