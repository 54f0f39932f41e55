"""What feeds and pushes did: one run record each, and the feed files already applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.store.errors import DuplicateRow, is_unique_violation
from service.store.models import FeedFile, FeedRun


class FeedRecords:
    """Feed runs and applied feed files of one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def seen(self, feed: str, checksum: str, retry_refused: bool = False) -> bool:
        """Whether this content was applied, or refused for its content, by this feed before."""
        applied = exists().where(FeedFile.feed == feed, FeedFile.checksum == checksum)
        if self.session.scalar(select(applied)):
            return True
        refused = exists().where(FeedRun.feed == feed, FeedRun.checksum == checksum,
                                 FeedRun.status == "refused")
        return not retry_refused and bool(self.session.scalar(select(refused)))

    def claim(self, feed: str, checksum: str, source: str, at: datetime) -> None:
        """Insert the payload's feed_files row first, so a concurrent run of it waits, then
        raises DuplicateRow (another process applied the same content)."""
        self.session.add(FeedFile(feed=feed, checksum=checksum, source=source[:1000],
                                  applied_at=at))
        try:
            self.session.flush()
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise DuplicateRow(f"feed {feed} already applied {checksum}") from exc

    def add_run(self, **fields: Any) -> FeedRun:
        """Add a run record (its transaction decides its fate); flushed, so it has an id."""
        run = FeedRun(**fields)
        self.session.add(run)
        self.session.flush()
        return run

    def recent(self, feed: str | None, limit: int) -> list[FeedRun]:
        """The newest runs, of one feed or of all."""
        query = select(FeedRun).order_by(FeedRun.id.desc()).limit(limit)
        if feed:
            query = query.where(FeedRun.feed == feed)
        return list(self.session.scalars(query))

    def last_run(self, feed: str) -> FeedRun | None:
        """The feed's newest run, if any."""
        return self.session.scalars(select(FeedRun).where(FeedRun.feed == feed)
                                    .order_by(FeedRun.id.desc()).limit(1)).first()
