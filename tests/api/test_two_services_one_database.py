"""Two `oms serve` processes and two `oms scheduler` processes on one database.

Orders placed through both servers never oversell; each job firing runs in one scheduler
while the other stands back (their run counters, summed by /metrics over every process);
each feed file dropped while they run is applied once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.services.access.keys import create_key
from service.store.models import FeedRun, FulfilmentLineRow, OrderRow, StockPosition
from tests.api.load import Load
from tests.processes import Served, call, serve, start, write_config
from tests.support import T1, assert_ledger_consistent, snapshot

STOCK = {"DC-1": {"A": 20, "B": 10}, "ST-1": {"A": 5, "C": 8}}
WINDOW_SECONDS, FILES = 8.0, 4


@pytest.fixture
def policy() -> str:
    return "strict@1"


def job_runs(served: Served) -> dict[tuple[str, str], float]:
    """Scheduler runs by (job, outcome), summed over every process sharing the metrics."""
    text = call("GET", served.base + "/metrics").body
    runs = {}
    for line in text.splitlines():
        if line.startswith("oms_job_runs_total{"):
            labels, value = line[len("oms_job_runs_total{"):].rsplit("} ", 1)
            pairs = dict(part.split("=", 1) for part in labels.split(","))
            runs[(pairs["job"].strip('"'), pairs["outcome"].strip('"'))] = float(value)
    return runs


def drop_delta(inbox: Path, n: int) -> None:
    """A delta file adding one unit of B at DC-1 (each its own content, as files are known
    by their checksum), old enough to be read at once."""
    path = inbox / f"{n:03d}.csv"
    path.write_text(f"location,sku,adjust,as_of\nDC-1,B,1,2026-03-02T10:00:{n:02d}Z\n")
    past = time.time() - 30
    os.utime(path, (past, past))


def test_two_servers_and_two_schedulers_on_one_database_never_oversell_or_run_twice(
        small_network, ctx, db_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = write_config(tmp_path, db_url, (
        "inventory: {reservation_expiry_seconds: 1}\nlogging: {level: INFO}\nfeeds:\n"
        f"  - {{name: adds, kind: stock_delta, source: '{inbox}/*.csv', format: csv, "
        "every_seconds: 1}\n"))
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    key = create_key(ctx, "admin")
    servers = [serve(config, f"serve-{i}", **shared) for i in range(2)]
    schedulers = [start(f"scheduler-{i}", ["scheduler"], config, **shared) for i in range(2)]
    try:
        for location, counts in STOCK.items():
            assert call("POST", servers[0].base + "/v1/inventory/snapshots", key,
                        snapshot(location, T1, counts)).status == 200
        wait_until_running(schedulers)
        before, started = job_runs(servers[0]), time.monotonic()
        with Load([s.base for s in servers], key, clients=4) as load:
            for n in range(FILES):
                drop_delta(inbox, n)
                time.sleep(WINDOW_SECONDS / FILES)
        after, window = job_runs(servers[0]), time.monotonic() - started
        wait_for_feed_runs(ctx, FILES)
        assert all(s.popen.poll() is None for s in schedulers)
    finally:
        for process in [*(s.process for s in servers), *schedulers]:
            process.stop()
    assert_each_firing_ran_once(before, after, window)
    assert_never_oversold(ctx, load)
    assert_each_file_applied_once(ctx)


def wait_until_running(schedulers: list, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not all("running jobs" in s.output() for s in schedulers):
        assert time.monotonic() < deadline, [s.output() for s in schedulers]
        time.sleep(0.1)


def wait_for_feed_runs(ctx, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.sessions() as session:
            if session.scalar(select(func.count()).select_from(FeedRun)) >= count:
                return
        time.sleep(0.1)


def assert_each_firing_ran_once(before: dict, after: dict, window: float) -> None:
    """Both schedulers fire rulesets.reload every second: one runs it, the other skips."""
    ran = after.get(("rulesets.reload", "ok"), 0) - before.get(("rulesets.reload", "ok"), 0)
    skipped = after.get(("rulesets.reload", "skipped"), 0) - before.get(
        ("rulesets.reload", "skipped"), 0)
    assert ran >= window / 2, (ran, skipped, window)  # the job kept running
    assert ran <= window + 2, (ran, skipped, window)  # at most once a second, not twice
    assert skipped >= ran - 2, (ran, skipped)  # the second scheduler fired and stood back
    assert after.get(("rulesets.reload", "failed"), 0) == 0


def assert_never_oversold(ctx, load: Load) -> None:
    statuses = [s.answer.status for s in load.sent]
    assert set(statuses) <= {200, 201, 409}, [s.answer.body for s in load.sent
                                             if s.answer.status not in {200, 201, 409}][:3]
    assert statuses.count(201) > 0 and statuses.count(409) > 0
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == statuses.count(201)
        for position in session.scalars(select(StockPosition)):
            assert position.allocated <= position.on_hand
        taken = dict(session.execute(select(FulfilmentLineRow.sku, func.sum(
            FulfilmentLineRow.quantity)).group_by(FulfilmentLineRow.sku)).all())
    assert taken.get("A", 0) <= 25 and taken.get("C", 0) <= 8
    assert taken.get("B", 0) <= 10 + FILES
    assert_ledger_consistent(ctx)


def assert_each_file_applied_once(ctx) -> None:
    with ctx.sessions() as session:
        runs = session.scalars(select(FeedRun).where(FeedRun.feed == "adds")).all()
        on_hand = session.scalar(select(StockPosition.on_hand).where(
            StockPosition.location_id == "DC-1", StockPosition.sku == "B"))
    assert len(runs) == FILES and {r.status for r in runs} == {"ok"}
    assert on_hand == 10 + FILES
