"""The scheduler process: APScheduler 3 jobs, each firing run by one process only."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from service import crontab, metrics
from service.errors import Unavailable
from service.services.context import Context
from service.services.feeds import running
from service.services.inventory import reservations
from service.services.notifications import delivery
from service.services.operations import jobs, partitions
from service.services.orders import expiring, releasing
from service.services.rulesets import governance
from service.services.settlements import exporting
from service.services.transfers import arrivals

log = logging.getLogger(__name__)
OWNER = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class JobSpec:
    """A job: its name, what it does, and when (every_seconds or a crontab line)."""

    name: str
    run: Callable[[Context], Any]
    every_seconds: float | None = None
    cron: str | None = None

    def trigger(self) -> Any:
        if self.cron:
            return crontab.trigger(self.cron)
        return IntervalTrigger(seconds=self.every_seconds or 60)

    @property
    def lease_seconds(self) -> float:
        """Long enough to cover one firing, short enough to free the next one."""
        return max(1.0, 0.9 * (self.every_seconds or 60))


TABLE_STATS_SECONDS = 15.0  # how soon a new database's order tables get statistics


def job_specs(ctx: Context) -> list[JobSpec]:
    """Every job this configuration asks for."""
    rulesets_cfg = ctx.settings.section("rulesets")
    inventory_cfg = ctx.settings.section("inventory")
    backorders_cfg = ctx.settings.section("backorders")
    return [
        JobSpec("rulesets.reload", governance.reload,
                every_seconds=rulesets_cfg["reload_seconds"]),
        JobSpec("reservations.expire", reservations.expire,
                every_seconds=inventory_cfg["reservation_expiry_seconds"]),
        JobSpec("tables.analyze", jobs.analyze_young_tables, every_seconds=TABLE_STATS_SECONDS),
        JobSpec("fulfilments.expire", expiring.expire_unaccepted,
                every_seconds=ctx.settings.section("fulfilment")["sla_check_seconds"]),
        JobSpec("orders.backorders", releasing.release_woken,
                every_seconds=backorders_cfg["release_seconds"]),
        JobSpec("orders.backorders.sweep", releasing.release_all,
                every_seconds=backorders_cfg["sweep_seconds"]),
        JobSpec(arrivals.JOB, arrivals.refresh_arrivals,
                every_seconds=ctx.settings.section("transfers")["arrivals_seconds"]),
        JobSpec("webhooks.deliver", delivery.run,  # a loop of run_seconds, woken by commits
                every_seconds=ctx.settings.section("webhooks")["run_seconds"]),
        *[JobSpec(f"feeds.{feed.name}", partial(running.run_scheduled, name=feed.name),
                  every_seconds=feed.every_seconds, cron=feed.cron)
          for feed in running.configured(ctx) if feed.scheduled],
        *_settlement_export(ctx),
        JobSpec(partitions.JOB, partitions.maintain_job,  # a no-op on SQLite, which says so
                every_seconds=ctx.settings.section("partitions")["every_seconds"]),
    ]


def _settlement_export(ctx: Context) -> list[JobSpec]:
    """The ERP export's job, when settlements.export_dir is set."""
    section = ctx.settings.section("settlements")
    if exporting.configured(ctx) is None:
        return []
    return [JobSpec("settlements.export", exporting.export_job,
                    every_seconds=section["every_seconds"], cron=section["cron"])]


def run_once(ctx: Context, spec: JobSpec, owner: str = OWNER) -> bool:
    """Run spec now if this process wins its lease; return whether it ran."""
    try:
        claimed = jobs.claim(ctx, spec.name, owner, spec.lease_seconds)
    except Unavailable:
        metrics.JOB_RUNS.labels(spec.name, "failed").inc()
        log.warning("job %s not run: the database cannot be reached", spec.name)
        return False
    if not claimed:
        metrics.JOB_RUNS.labels(spec.name, "skipped").inc()
        return False
    with _lease_kept(ctx, spec, owner):
        try:
            spec.run(ctx)
        except Unavailable:
            metrics.JOB_RUNS.labels(spec.name, "failed").inc()
            log.warning("job %s failed: the database cannot be reached", spec.name)
            return True
        except Exception:
            metrics.JOB_RUNS.labels(spec.name, "failed").inc()
            log.exception("job %s failed", spec.name)
            return True
    metrics.JOB_RUNS.labels(spec.name, "ok").inc()
    return True


@contextmanager
def _lease_kept(ctx: Context, spec: JobSpec, owner: str) -> Iterator[None]:
    """Renew the lease while a run lasts longer than it, so no other process starts it too."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(spec.lease_seconds / 3):
            try:
                jobs.claim(ctx, spec.name, owner, spec.lease_seconds)
            except Exception:  # the run itself reports database trouble
                log.warning("could not renew the lease of %s", spec.name, exc_info=True)

    keeper = threading.Thread(target=renew, name=f"lease:{spec.name}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


def add_jobs(scheduler: BaseScheduler, ctx: Context, owner: str = OWNER) -> list[str]:
    """Schedule every job on scheduler; return their names."""
    names = []
    for spec in job_specs(ctx):
        scheduler.add_job(
            run_once,
            spec.trigger(),
            args=(ctx, spec, owner),
            id=spec.name,
            name=spec.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=30,
        )
        names.append(spec.name)
    return names


def run_forever(ctx: Context) -> None:
    """Block, running the jobs, until interrupted."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per firing is noise
    scheduler = BlockingScheduler(timezone="UTC")
    names = add_jobs(scheduler, ctx)
    log.info("scheduler %s running jobs: %s", OWNER, ", ".join(names) or "(none)")
    _stop_on_sigterm()
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler %s stopping: running jobs finish their turn", OWNER)
        ctx.stopping.set()  # webhooks.deliver ends its loop within a second
        scheduler.shutdown(wait=True)  # (a second Ctrl-C stops the waiting)


def _stop_on_sigterm() -> None:
    """SIGTERM (a supervisor's stop) ends the scheduler as Ctrl-C does, letting the running
    jobs finish their turn, instead of killing it mid-job (possible in the main thread only)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_system_exit)


def _raise_system_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
