"""Job leases: with several processes on one database, one of them runs each job firing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.orm import Session

from service.clock import Clock
from service.store.models import JobLease
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
