"""What the scheduler needs of the database: job leases, and statistics for young tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.store import table_stats

if TYPE_CHECKING:
    from service.services.context import Context


def claim(ctx: Context, job: str, owner: str, seconds: float) -> bool:
    """Take (or renew) the lease on a job for `seconds`; False while another owner holds it."""
    with ctx.transaction() as uow:
        return uow.leases.try_acquire(job, owner, seconds)


def analyze_young_tables(ctx: Context) -> list[str]:
    """Give order tables statistics as they grow (PostgreSQL; see store.table_stats)."""
    return table_stats.analyze_grown(ctx.engine)
