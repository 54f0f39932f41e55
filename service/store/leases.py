"""Job leases: with several processes on one database, one of them runs each job firing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.orm import Session

from service.store.models import JobLease, utcnow
from service.store.upsert import insert_for


def try_acquire(session: Session, job: str, owner: str, ttl_seconds: float) -> bool:
    """Take the lease on job for ttl_seconds unless another live owner holds it."""
    now = utcnow()
    table = JobLease.__table__
    stmt = insert_for(session, table).values(
        job=job, owner=owner, expires_at=now + timedelta(seconds=ttl_seconds)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["job"],
        set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at},
        where=or_(table.c.expires_at < now, table.c.owner == owner),
    ).returning(table.c.owner)
    return session.execute(stmt).scalar() == owner
