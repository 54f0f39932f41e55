"""The console's sessions and the ruleset drafts, inside one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.store.models import ApiKey, ConsoleSession, RulesetDraft


@dataclass(frozen=True)
class SignedIn:
    """A live console session: the key behind it, its role and the form token."""

    id: str
    key_prefix: str
    role: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class Draft:
    """A draft's row."""

    id: int
    name: str
    base_version: int
    text: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    published_version: int | None


class ConsoleSessions:
    """Console sessions: opened at sign-in, touched on every page, closed at sign-out."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def key_of(self, key_hash: str) -> tuple[int, str, str] | None:
        """(id, prefix, role) of the unrevoked key with this hash."""
        row = self.session.execute(select(ApiKey.id, ApiKey.prefix, ApiKey.role).where(
            ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))).first()
        return None if row is None else (row[0], row[1], row[2])

    def open(self, token_hash: str, key: tuple[int, str, str], csrf: str, now: datetime,
             expires_at: datetime) -> None:
        """A new session (the expired ones are deleted on the way)."""
        self.session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        self.session.add(ConsoleSession(
            id=token_hash, api_key_id=key[0], key_prefix=key[1], role=key[2],
            csrf_token=csrf, created_at=now, last_seen_at=now, expires_at=expires_at))

    def find(self, token_hash: str, now: datetime) -> SignedIn | None:
        """The live session of this hash (one statement); None when it is unknown, expired,
        or its key was revoked since."""
        row = self.session.execute(
            select(ConsoleSession.id, ConsoleSession.key_prefix, ConsoleSession.role,
                   ConsoleSession.csrf_token, ConsoleSession.expires_at)
            .join(ApiKey, ApiKey.id == ConsoleSession.api_key_id)
            .where(ConsoleSession.id == token_hash, ConsoleSession.expires_at > now,
                   ApiKey.revoked_at.is_(None))).first()
        return None if row is None else SignedIn(*row)

    def extend(self, token_hash: str, now: datetime, expires_at: datetime) -> None:
        """Move a session's idle expiry on."""
        self.session.execute(update(ConsoleSession).where(ConsoleSession.id == token_hash)
                             .values(last_seen_at=now, expires_at=expires_at))

    def close(self, token_hash: str) -> None:
        """End a session (sign-out)."""
        self.session.execute(delete(ConsoleSession).where(ConsoleSession.id == token_hash))


_DRAFT = (RulesetDraft.id, RulesetDraft.name, RulesetDraft.base_version, RulesetDraft.text,
          RulesetDraft.created_by, RulesetDraft.created_at, RulesetDraft.updated_by,
          RulesetDraft.updated_at, RulesetDraft.published_version)


class RulesetDrafts:
    """Drafts of rule files."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str, base_version: int, text: str, who: str, now: datetime) -> int:
        """A new draft; its id."""
        draft = RulesetDraft(name=name, base_version=base_version, text=text, created_by=who,
                             created_at=now, updated_by=who, updated_at=now)
        self.session.add(draft)
        self.session.flush()
        return draft.id

    def get(self, name: str, draft_id: int, lock: bool = False) -> Draft | None:
        """One draft of a ruleset (locked for update when asked, on PostgreSQL)."""
        query = select(*_DRAFT).where(RulesetDraft.id == draft_id, RulesetDraft.name == name)
        if lock and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else Draft(*row)

    def listed(self, name: str | None = None, limit: int = 50) -> list[Draft]:
        """The newest drafts (of one ruleset, or all)."""
        query = select(*_DRAFT).order_by(RulesetDraft.id.desc()).limit(limit)
        if name is not None:
            query = query.where(RulesetDraft.name == name)
        return [Draft(*row) for row in self.session.execute(query)]

    def save(self, draft_id: int, text: str, who: str, now: datetime) -> None:
        """Replace a draft's text."""
        self.session.execute(update(RulesetDraft).where(RulesetDraft.id == draft_id)
                             .values(text=text, updated_by=who, updated_at=now))

    def published(self, draft_id: int, version: int) -> None:
        """Mark a draft published as version."""
        self.session.execute(update(RulesetDraft).where(RulesetDraft.id == draft_id)
                             .values(published_version=version))
