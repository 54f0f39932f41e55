"""Console sessions: an API key exchanged for a random token (only its hash is stored), a
CSRF token per session, idle expiry (console.idle_minutes), sign-out; a revoked key's
sessions end with it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from service.errors import Unauthenticated
from service.services.access.keys import hash_key
from service.store.console import SignedIn

if TYPE_CHECKING:
    from service.services.context import Context

MAX_KEY_LENGTH = 200
TOUCH_EVERY = timedelta(seconds=30)  # a session's expiry is written at most this often


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _idle(ctx: Context) -> timedelta:
    return timedelta(minutes=ctx.settings.section("console")["idle_minutes"])


def sign_in(ctx: Context, key: str) -> tuple[str, SignedIn]:
    """A new session for an unrevoked key: (the cookie's token, the session). Every sign-in
    makes a new token, so a session id planted before it is never the signed-in one."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unauthenticated("Enter an API key.")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.transaction() as uow:
        found = uow.console_sessions.key_of(hash_key(key))
        if found is None:
            raise Unauthenticated("The API key is unknown or revoked.")
        uow.console_sessions.open(_token_hash(token), found, csrf, now, now + _idle(ctx))
    return token, SignedIn(_token_hash(token), found[1], found[2], csrf, now + _idle(ctx))


def resume(ctx: Context, token: str | None) -> SignedIn | None:
    """The live session of a cookie's token, or None. Its idle expiry moves on, written at
    most every TOUCH_EVERY (a page is otherwise one read, taking no write lock)."""
    if not token or len(token) > MAX_KEY_LENGTH:
        return None
    now, digest = ctx.clock.now(), _token_hash(token)
    with ctx.reading(autocommit=True) as uow:
        found = uow.console_sessions.find(digest, now)
    if found is None or now + _idle(ctx) - found.expires_at < TOUCH_EVERY:
        return found
    with ctx.transaction() as uow:
        uow.console_sessions.extend(digest, now, now + _idle(ctx))
    return replace(found, expires_at=now + _idle(ctx))


def sign_out(ctx: Context, token: str | None) -> None:
    """End the session of a cookie's token (nothing when there is none)."""
    if not token:
        return
    with ctx.transaction() as uow:
        uow.console_sessions.close(_token_hash(token))
