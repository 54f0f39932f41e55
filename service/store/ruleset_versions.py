"""Published ruleset versions and the load problems processes report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.store.models import RulesetLoadProblem, RulesetVersion

_LISTED = (RulesetVersion.id, RulesetVersion.name, RulesetVersion.version,
           RulesetVersion.text_sha256, RulesetVersion.content_hash, RulesetVersion.source,
           RulesetVersion.path, RulesetVersion.published_at, RulesetVersion.published_by)


@dataclass(frozen=True)
class Published:
    """A published version without its text."""

    id: int
    name: str
    version: int
    text_sha256: str
    content_hash: str
    source: str
    path: str | None
    published_at: datetime
    published_by: str


@dataclass(frozen=True)
class ReportedProblem:
    """A load problem as stored: which reporter found it, where, and what."""

    reporter: str
    path: str
    line: int
    col: int
    pointer: str
    message: str
    severity: str
    code: str
    seen_at: datetime

    @property
    def key(self) -> tuple[str, int, int, str, str, str, str]:
        """What makes two reports the same problem (not who saw it, nor when)."""
        return (self.path, self.line, self.col, self.pointer, self.message, self.severity,
                self.code)


class RulesetVersionRepository:
    """Published versions and reported load problems, inside one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def listed(self, name: str | None = None) -> list[Published]:
        """Every published version (of one name, or all), by name then version."""
        query = select(*_LISTED).order_by(RulesetVersion.name, RulesetVersion.version)
        if name is not None:
            query = query.where(RulesetVersion.name == name)
        return [Published(*row) for row in self.session.execute(query)]

    def find(self, name: str, version: int | None = None) -> Published | None:
        """One version, or the latest of the name when version is None."""
        query = select(*_LISTED).where(RulesetVersion.name == name)
        if version is None:
            query = query.order_by(RulesetVersion.version.desc()).limit(1)
        else:
            query = query.where(RulesetVersion.version == version)
        row = self.session.execute(query).first()
        return None if row is None else Published(*row)

    def text_of(self, name: str, version: int) -> tuple[str, str] | None:
        """(text, text_sha256) of one version."""
        row = self.session.execute(
            select(RulesetVersion.text, RulesetVersion.text_sha256)
            .where(RulesetVersion.name == name, RulesetVersion.version == version)).first()
        return None if row is None else (row[0], row[1])

    def add(self, name: str, version: int, text: str, text_sha256: str, content_hash: str,
            source: str, path: str | None, by: str, at: datetime) -> None:
        """Publish a version (a second one with this name and version raises DuplicateRow
        when the transaction commits)."""
        self.session.add(RulesetVersion(
            name=name, version=version, text=text, text_sha256=text_sha256,
            content_hash=content_hash, source=source, path=path, published_by=by,
            published_at=at))
        self.session.flush()

    def problems(self, reporter: str | None = None) -> list[ReportedProblem]:
        """Reported load problems (of one reporter, or all), by path and line."""
        table = RulesetLoadProblem
        query = select(table.reporter, table.path, table.line, table.col, table.pointer,
                       table.message, table.severity, table.code, table.seen_at
                       ).order_by(table.path, table.line, table.col, table.id)
        if reporter is not None:
            query = query.where(table.reporter == reporter)
        return [ReportedProblem(*row) for row in self.session.execute(query)]

    def replace_problems(self, reporter: str, found: Iterable[ReportedProblem]) -> None:
        """The reporter's problems are now exactly these."""
        self.session.execute(delete(RulesetLoadProblem)
                             .where(RulesetLoadProblem.reporter == reporter))
        self.session.add_all(RulesetLoadProblem(
            reporter=reporter, path=p.path, line=p.line, col=p.col, pointer=p.pointer,
            message=p.message, severity=p.severity, code=p.code, seen_at=p.seen_at)
            for p in found)
