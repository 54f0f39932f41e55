"""Partition maintenance with three real `oms scheduler` processes on one PostgreSQL database
(issue 18): each old partition with nothing left to deliver or export is retired once, by one
process, its webhook deliveries with it; a partition holding an event not yet delivered or a
settlement record not yet exported stays, rows and all; every process exits cleanly.

Each process is `oms scheduler` as an operator runs it (config file, logging, every job, the
job leases), with one change: `partitions.maintain` fires every second instead of the
configured interval, whose minimum (60 s, config.schema.json) would make the test wait a
minute for the first firing. Then three processes run the maintenance at once without the
job's lease, as `oms db partitions --maintain` does beside a scheduler, on a day when new
months of orders are due: each month is created once and no run fails. SQLite has no
partitions: skipped there, as in test_partitions.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text

from service.services.operations import partitions
from service.store import partitions as store
from tests.integration.store.test_partitions import (
    add_delivery,
    add_event,
    add_journal,
    count,
    make_partition,
    names,
    partition_of,
)
from tests.processes import Process, write_config

SCHEDULERS = 3
MAINTAIN_SECONDS = 1.0
CONFIG = ("logging: {level: INFO}\nwebhooks: {run_seconds: 1}\n"
          "partitions: {events_retention_days: 30, journal_retention_days: 30,"
          " settlements_retention_days: 30}\n")
SCRIPT = '''
import sys
from dataclasses import replace

from service import scheduler
from service.cli import main
from service.services.operations import partitions

configured, every_seconds = scheduler.job_specs, float(sys.argv[1])


def job_specs(ctx):
    """The configured jobs, partitions.maintain every `every_seconds`."""
    return [replace(spec, every_seconds=every_seconds) if spec.name == partitions.JOB
            else spec for spec in configured(ctx)]


scheduler.job_specs = job_specs
sys.exit(main(["scheduler"]))
'''
RETIRABLE = ["events_p20210901", "events_p20211001", "events_p20211101",
             "inventory_journal_p20210901", "settlement_records_p20210901"]
UNDELIVERED, UNEXPORTED = "events_p20211201", "settlement_records_p20211001"
RACE = '''
import json, sys, time
from datetime import datetime
from pathlib import Path

from service.bootstrap import build_context
from service.clock import MovableClock
from service.services.operations import partitions
from service.settings import load_settings

config, go, now = sys.argv[1:4]
ctx = build_context(load_settings(config), clock=MovableClock(datetime.fromisoformat(now)))
while not Path(go).exists():
    time.sleep(0.005)
print(json.dumps(partitions.maintain(ctx).as_dict()))
'''
RACE_DAY = "2034-05-15T12:00:00+00:00"  # a month no other test makes partitions for
RACE_CONFIG = ("partitions: {ahead: 2, events_retention_days: 3650}\n")  # 2021 goes, 2026 stays
RETIRED = re.compile(r"partitions: created .*?, retired (\[.*?\]), kept")


@pytest.fixture
def pg(small_network):
    """The context with products and locations, on PostgreSQL only."""
    if not partitions.supported(small_network):
        pytest.skip("partitions exist on PostgreSQL only")
    return small_network


def month(m: int) -> tuple[datetime, datetime]:
    return datetime(2021, m, 1), datetime(2021 + m // 12, m % 12 + 1, 1)


def add_order(engine, order_id: str) -> int:
    """An order with one line, for settlement records to refer to; the line's id."""
    now = datetime(2021, 9, 1)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO orders (id, channel, status, delivery_method, ship_to, attributes,"
            " ruleset, plan, explanation, created_at, updated_at) VALUES (:id, 'web',"
            " 'fulfilled', 'ship', '{}', '{}', 'strict@1', '{}', '{}', :now, :now)"),
            {"id": order_id, "now": now})
        return conn.scalar(text(
            "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price,"
            " quantity_cancelled, quantity_backordered) VALUES (:id, 1, 'A', 1, 10, 0, 0)"
            " RETURNING id"), {"id": order_id})


def add_record(engine, line: tuple[str, int], at: datetime, exported: bool) -> int:
    with engine.begin() as conn:
        return conn.scalar(text(
            "INSERT INTO settlement_records (kind, order_id, order_line_id, sku, quantity,"
            " amount, created_at, exported_at) VALUES ('shipped', :o, :l, 'A', 1, 10, :at,"
            " :exported) RETURNING id"),
            {"o": line[0], "l": line[1], "at": at, "exported": at if exported else None})


def seeded(engine) -> dict[str, int]:
    """Old partitions, past the 30 days of retention: RETIRABLE have nothing left to deliver
    or export; UNDELIVERED holds an event whose delivery is pending (its next attempt far
    ahead, so the webhooks job leaves it so); UNEXPORTED holds a record not yet exported."""
    for m in (9, 10, 11, 12):
        make_partition(engine, store.EVENTS, *month(m))
    make_partition(engine, store.INVENTORY_JOURNAL, *month(9))
    for m in (9, 10):
        make_partition(engine, store.SETTLEMENT_RECORDS, *month(m))
    for m, status in ((9, "delivered"), (10, "dead"), (11, "delivered"), (12, "delivered")):
        add_delivery(engine, add_event(engine, datetime(2021, m, 5)), status)
    waiting = add_event(engine, datetime(2021, 12, 20))
    pending = add_delivery(engine, waiting, "pending")
    with engine.begin() as conn:
        conn.execute(text("UPDATE webhook_deliveries SET next_attempt_at = '2099-01-01'"
                          " WHERE id = :d"), {"d": pending})
    add_journal(engine, datetime(2021, 9, 9))
    line = ("o-settled", add_order(engine, "o-settled"))
    add_record(engine, line, datetime(2021, 9, 10), exported=True)
    add_record(engine, line, datetime(2021, 10, 3), exported=True)
    unexported = add_record(engine, line, datetime(2021, 10, 20), exported=False)
    return {"event": waiting, "record": unexported}


def _hears_ctrl_c() -> None:
    """Ctrl-C as a terminal delivers it: a run started in the background (CI under nohup, a
    shell without job control) has SIGINT ignored, and a child inherits that (Python then
    never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_schedulers(config: Path, metrics: Path) -> list[Process]:
    script = config.parent / "scheduler.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMS_CONFIG": str(config), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    started = []
    for i in range(SCHEDULERS):
        log = config.parent / f"scheduler-{i}.log"
        with log.open("w") as out:
            popen = subprocess.Popen([sys.executable, str(script), str(MAINTAIN_SECONDS)],
                                     stdout=out, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=_hears_ctrl_c)
        started.append(Process(f"scheduler-{i}", popen, log))
    return started


def wait_until(condition, processes: list[Process], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, [p.output() for p in processes]
        assert all(p.popen.poll() is None for p in processes), [p.output() for p in processes]
        time.sleep(0.1)


def interrupted(processes: list[Process]) -> list[int]:
    """Ctrl-C to each, as an operator stops them; their exit statuses. A process exits once
    the jobs it is running end (a job waiting on a lock or a LISTEN may take seconds on a
    loaded machine)."""
    for process in processes:
        process.popen.send_signal(signal.SIGINT)
    return [_status(process) for process in processes]


def _status(process: Process) -> int:
    try:
        return process.popen.wait(timeout=90)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        process.popen.wait()
        return -9


def maintain_runs(metrics: Path) -> dict[str, float]:
    """partitions.maintain firings by outcome (ok, skipped, failed), over every process."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics))
    return {sample.labels["outcome"]: sample.value for family in registry.collect()
            for sample in family.samples if sample.name == "oms_job_runs_total"
            and sample.labels.get("job") == partitions.JOB}


def test_three_scheduler_processes_retire_each_old_partition_once_and_keep_what_is_needed(
        pg, db_url, tmp_path):
    kept = seeded(pg.engine)
    deliveries_kept = count(pg.engine, "webhook_deliveries") - 3  # those of Sept.-Nov.
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    processes = start_schedulers(write_config(tmp_path, db_url, CONFIG), metrics)
    try:
        wait_until(lambda: all("running jobs" in p.output() for p in processes), processes)
        wait_until(lambda: not set(RETIRABLE) & {
            n for table in ("events", "inventory_journal", "settlement_records")
            for n in names(pg.engine, table)}, processes)
        wait_until(lambda: maintain_runs(metrics).get("ok", 0) >= 3, processes)  # more runs
    finally:
        statuses = interrupted(processes)
    logs = [p.output() for p in processes]

    assert statuses == [0] * SCHEDULERS, logs
    retired = Counter(name for log in logs for found in RETIRED.findall(log)
                      for name in ast.literal_eval(found))
    assert {name: retired[name] for name in RETIRABLE} == dict.fromkeys(RETIRABLE, 1), logs
    assert retired[UNDELIVERED] == retired[UNEXPORTED] == 0
    runs = maintain_runs(metrics)
    assert runs.get("skipped", 0) >= 1 and runs.get("failed", 0) == 0, runs
    assert not [line for log in logs for line in log.splitlines()
                if "ERROR" in line or "Traceback" in line or "failed" in line], logs
    assert partition_of(pg.engine, "events", kept["event"]) == UNDELIVERED
    assert partition_of(pg.engine, "settlement_records", kept["record"]) == UNEXPORTED
    assert count(pg.engine, "events") == 2  # the undelivered one and its delivered neighbour
    assert count(pg.engine, "settlement_records") == 2  # the partition was kept whole
    assert count(pg.engine, "inventory_journal") == 0
    assert count(pg.engine, "webhook_deliveries") == deliveries_kept == 2
    assert count(pg.engine, "webhook_attempts") == 2  # one each, kept with their deliveries


def race(config: Path, tmp_path: Path) -> list[dict]:
    """Three processes run the maintenance at the same moment; what each did."""
    script, go = tmp_path / "race.py", tmp_path / "go"
    script.write_text(RACE)
    processes = [subprocess.Popen([sys.executable, str(script), str(config), str(go), RACE_DAY],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(SCHEDULERS)]
    time.sleep(2.0)  # each imports and connects before the start line
    go.touch()
    done = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        done.append(json.loads(out.strip().splitlines()[-1]))
    return done


def test_maintenance_runs_at_once_without_the_lease_create_each_new_month_once(pg, db_url,
                                                                                tmp_path):
    for m in (9, 10):
        make_partition(pg.engine, store.EVENTS, *month(m))
        add_delivery(pg.engine, add_event(pg.engine, datetime(2021, m, 5)), "delivered")

    runs = race(write_config(tmp_path, db_url, RACE_CONFIG), tmp_path)

    created = Counter(name for run in runs for name in run["created"])
    due = ["orders_p2034_05", "orders_p2034_06", "orders_p2034_07",
           "events_p20340501", "events_p20340601", "events_p20340701"]
    assert {name: created[name] for name in due} == dict.fromkeys(due, 1), runs
    assert max(created.values()) == 1, runs
    retired = Counter(name for run in runs for name in run["retired"])
    assert retired["events_p20210901"] == retired["events_p20211001"] == 1, runs
    assert set(due[3:]) <= set(names(pg.engine, "events"))
    with pg.engine.connect() as conn:
        assert all(conn.scalar(text("SELECT to_regclass(:n)"), {"n": n}) for n in due[:3])
