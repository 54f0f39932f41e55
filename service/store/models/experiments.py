"""The experiments file as published: the validated text every process runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ExperimentFile(Base):
    """One accepted version of rulesets/experiments.yaml (append-only: the newest row is the
    one in force; an invalid file never gets a row). `modified_at` is the file's own time:
    a process whose file is older than the one in force does not put it back."""

    __tablename__ = "experiment_files"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(1000), default=None)
    modified_at: Mapped[datetime] = mapped_column()  # the file's modification time
    published_at: Mapped[datetime] = mapped_column()
    published_by: Mapped[str] = mapped_column(String(128))
