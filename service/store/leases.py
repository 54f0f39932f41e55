"""Job leases: with several processes on one database, one of them runs each job firing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.clock import Clock
from service.store.models import JobLease, JobMark
from service.store.upsert import insert_for


class LeaseRepository:
    """Job leases of one transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def try_acquire(self, job: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or renew) the lease on job for ttl_seconds unless another live owner
        holds it."""
        now = self.clock.now()
        table = JobLease.__table__
        stmt = insert_for(self.session, table).values(
            job=job, owner=owner, expires_at=now + timedelta(seconds=ttl_seconds))
        stmt = stmt.on_conflict_do_update(
            index_elements=["job"],
            set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at},
            where=or_(table.c.expires_at < now, table.c.owner == owner),
        ).returning(table.c.owner)
        return self.session.execute(stmt).scalar() == owner

    def marked(self, job: str) -> datetime | None:
        """The time the job's last run covered (None: never run); its row locked (PostgreSQL)
        until this transaction ends, so two runs at once take turns."""
        query = select(JobMark.marked_at).where(JobMark.job == job)
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return self.session.scalar(query)

    def mark(self, job: str, at: datetime) -> None:
        """Record that the job's run covered everything up to `at`."""
        table = JobMark.__table__
        stmt = insert_for(self.session, table).values(job=job, marked_at=at)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["job"], set_={"marked_at": stmt.excluded.marked_at}))
