"""Partition maintenance: create the periods ahead, retire partitions past retention whose
rows are no longer needed (`partitions.maintain` job, `oms db partitions`). PostgreSQL only:
on SQLite nothing is partitioned and maintenance says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.domain.partitions import past_retention, wanted
from service.store import order_partitions
from service.store import partitions as store

if TYPE_CHECKING:
    from service.domain.partitions import Interval, Partition
    from service.services.context import Context

log = logging.getLogger(__name__)
JOB = "partitions.maintain"
NOT_SUPPORTED = "partitions: this database (SQLite) has no partitions; nothing to maintain"


@dataclass
class Maintenance:
    """What one run did: partitions created, retired, kept (a row still needed) and busy
    (the table stayed locked; retried next run)."""

    supported: bool = True
    created: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tables not partitioned

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def supported(ctx: Context) -> bool:
    """Whether the database partitions tables (PostgreSQL)."""
    return store.supported(ctx.engine)


def maintain(ctx: Context) -> Maintenance:
    """Create the partitions ahead and retire the old ones, table by table."""
    if not store.supported(ctx.engine):
        log.info(NOT_SUPPORTED)
        return Maintenance(supported=False)
    config = ctx.settings.section("partitions")
    interval: Interval = config["interval"]
    now, done = ctx.clock.now(), Maintenance()
    partitioned = store.partitioned_tables(ctx.engine)
    done.skipped = [t.name for t in store.TABLES if t not in partitioned]
    for table in partitioned:
        done.created += store.create_ahead(ctx.engine, table,
                                           wanted(now, interval, config["ahead"]))
        days = config.get(table.retention_key) if table.retention_key else None
        for partition in past_retention(store.partitions_of(ctx.engine, table.name),
                                         now, days):
            _retire(ctx, table, partition, done)
    done.created += _orders_ahead(ctx, config["ahead"])
    return done


def _orders_ahead(ctx: Context, ahead: int) -> list[str]:
    """Orders' months ahead: `orders` is partitioned by its time-ordered ids, month by month
    whatever `interval` says (store/order_partitions.py); kept forever (no retention)."""
    with ctx.engine.begin() as connection:
        return order_partitions.ensure_order_partitions(connection, ctx.clock.now(),
                                                        months_ahead=max(ahead, 1))


def maintain_job(ctx: Context) -> dict[str, Any]:
    """The scheduler's `partitions.maintain` job (its lease makes each firing run once)."""
    done = maintain(ctx)
    if done.created or done.retired or done.busy:
        log.info("partitions: created %s, retired %s, kept %s, busy %s", done.created,
                 done.retired, done.kept, done.busy)
    return done.as_dict()


def _retire(ctx: Context, table: store.PartitionedTable, partition: Partition,
            done: Maintenance) -> None:
    if store.needed(ctx.engine, table, partition):  # no lock taken while it is needed
        done.kept.append(partition.name)
        return
    outcome = store.retire(ctx.engine, table, partition)
    {"retired": done.retired, "kept": done.kept, "busy": done.busy}.get(
        outcome, []).append(partition.name)


def listing(ctx: Context) -> list[dict[str, Any]]:
    """Every partition of every partitioned table with its bounds and estimated rows
    (empty on SQLite)."""
    return store.described(ctx.engine)
