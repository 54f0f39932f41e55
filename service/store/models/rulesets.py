"""Published ruleset versions (the text every process loads) and rule-file load problems."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class RulesetVersion(Base):
    """One published version: immutable once written (a file imported, or the API)."""

    __tablename__ = "ruleset_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="ruleset_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # file | api
    path: Mapped[str | None] = mapped_column(String(1000), default=None)
    published_at: Mapped[datetime] = mapped_column()
    published_by: Mapped[str] = mapped_column(String(128))


class RulesetLoadProblem(Base):
    """A problem some process found in a rule file: each reporter (a host's rules folder)
    replaces its own rows on every look at the folder, so every process sees them all."""

    __tablename__ = "ruleset_load_problems"
    __table_args__ = (Index("ix_ruleset_load_problems_reporter", "reporter"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    reporter: Mapped[str] = mapped_column(String(1000))
    path: Mapped[str] = mapped_column(String(1000))
    line: Mapped[int]
    col: Mapped[int]
    pointer: Mapped[str] = mapped_column(String(1000))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column()
