"""The console's sign-in sessions and the ruleset drafts edited in the console or the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ConsoleSession(Base):
    """A console sign-in: an API key exchanged for a random token whose hash is the id."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    api_key_id: Mapped[int]
    key_prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(128))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()


class RulesetDraft(Base):
    """A rule file's text being edited, from a published version, until it is published."""

    __tablename__ = "ruleset_drafts"
    __table_args__ = (Index("ix_ruleset_drafts_name", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    base_version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column()
    published_version: Mapped[int | None] = mapped_column(default=None)
