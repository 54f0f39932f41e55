"""`kill -9` of a process in the middle of a snapshot, an order and a feed file.

The process is frozen (SIGSTOP) at moments until it is caught inside its transaction with
nothing of it committed (PostgreSQL: its backend holds a transaction id and is not
committing; SQLite: it holds the write lock), then killed. The next run finds the previous
stock intact (every count, allocation, order and remembered file as before) and the file
still new; the same work sent again is applied once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from service.domain.roles import Role
from service.services.access.keys import create_key
from service.services.inventory.pushes import push_snapshot
from service.services.masterdata import upserts
from service.services.rulesets import governance
from service.store.db import make_engine, read_only
from service.store.models import FeedFile, FeedRun, OrderRow, StockPosition
from tests.processes import Answer, call, freeze, oms, serve, start, thaw, write_config
from tests.support import assert_ledger_consistent

SKUS = [f"K{i:04d}" for i in range(1500)]
LOCATIONS = ["DC-1", "DC-2"]
T0 = "2026-03-01T10:00:00Z"


@pytest.fixture
def policy() -> str:
    return "strict@1"


@pytest.fixture
def stocked(ctx):
    """Two DCs holding 100 of each of 1,500 SKUs."""
    upserts.upsert_locations(ctx, [
        {"id": loc, "name": loc, "type": "dc", "lat": 39.1 + i, "lon": -84.5,
         "daily_capacity": 100000, "processing_hours": 12} for i, loc in enumerate(LOCATIONS)])
    upserts.upsert_products(ctx, [{"sku": s, "name": s, "category": "home", "price": 10}
                                  for s in SKUS])
    governance.start(ctx)
    for location in LOCATIONS:
        push_snapshot(ctx, Role.parse("admin"), {"location": location, "as_of": T0},
                      [{"sku": s, "on_hand": 100} for s in SKUS])
    return ctx


class Probe:
    """What the database shows of a frozen process: the committed state (a fingerprint of
    stock, orders and feed records) and whether the process is inside a transaction."""

    def __init__(self, db_url: str) -> None:
        self.name = f"oms-kill-{uuid.uuid4().hex[:8]}"
        url = make_url(db_url)
        self.postgres = url.get_backend_name() == "postgresql"
        self.url = url.update_query_dict({"application_name": self.name}).render_as_string(
            hide_password=False) if self.postgres else db_url
        self.sqlite_path = None if self.postgres else url.database
        self.engine = make_engine(db_url)

    def committed(self) -> tuple:
        with read_only(self.engine) as conn:
            stock = conn.execute(select(func.count(), func.sum(StockPosition.on_hand),
                                        func.sum(StockPosition.allocated))).one()
            counts = [conn.scalar(select(func.count()).select_from(model))
                      for model in (OrderRow, FeedFile, FeedRun)]
        return (*stock, *counts)

    def inside_transaction(self) -> bool:
        """Whether the (frozen) process has a transaction open that is not committing."""
        if not self.postgres:
            return self._sqlite_write_lock_held()
        time.sleep(0.05)  # a COMMIT already sent finishes while the process is frozen
        with read_only(self.engine) as conn:
            return bool(conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                "AND backend_xid IS NOT NULL AND query NOT ILIKE 'commit%'"),
                {"name": self.name}))

    def _sqlite_write_lock_held(self) -> bool:
        conn = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()

    def close(self) -> None:
        self.engine.dispose()


def kill_inside_transaction(probe: Probe, pid: Callable[[], int | None],
                            started: Callable[[], tuple], timeout: float = 60,
                            ended: Callable[[], bool] = lambda: False) -> tuple | None:
    """Freeze the process now and then until it is inside a transaction, and kill -9 it
    there; the committed state its work started from (None: never caught).

    On PostgreSQL "inside" is exact (a transaction id, not committing); on SQLite the write
    lock is held while a commit finishes too, so there the committed state must still be the
    one the work started from.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ended():
        time.sleep(0.005)
        target = pid()
        if target is None:
            continue
        freeze(target)
        try:
            start = started()
            if probe.inside_transaction() and (probe.postgres or probe.committed() == start):
                os.kill(target, signal.SIGKILL)
                return start
        finally:
            thaw(target)  # (a killed process ignores it)
    return None


class Repeating:
    """work() run again and again in a thread until stop(); `before` is the committed state
    the work in flight started from."""

    def __init__(self, probe: Probe, work: Callable[[], object]) -> None:
        self.before = probe.committed()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(probe, work), daemon=True)
        self._thread.start()

    def _loop(self, probe: Probe, work: Callable[[], object]) -> None:
        while not self._stop.is_set():
            self.before = probe.committed()
            work()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=90)


def test_a_server_killed_in_the_middle_of_a_snapshot_leaves_the_previous_stock(
        stocked, ctx, db_url, tmp_path):
    probe = Probe(db_url)
    served = serve(write_config(tmp_path, probe.url), workers=1)
    key = create_key(ctx, "admin")
    counts = iter(range(101, 10**6))

    def push() -> Answer:
        body = {"location": "DC-1", "as_of": "2026-03-02T10:00:00Z",
                "items": [{"sku": s, "on_hand": next(counts)} for s in SKUS]}
        return call("POST", served.base + "/v1/inventory/snapshots", key, body, timeout=60)

    pushing = Repeating(probe, push)
    try:
        left = kill_inside_transaction(probe, lambda: worker(served), lambda: pushing.before)
        pushing.stop()
        assert left is not None, "never caught inside a snapshot's transaction"
        assert probe.committed() == left  # the stock before the push, intact
        assert_ledger_consistent(ctx)
        assert push().status == 200  # the same push again (a new worker) applies
    finally:
        pushing.stop()
        served.process.stop()
        probe.close()


def worker(served) -> int | None:
    children = served.process.children()
    return children[0] if children else None


def big_order() -> dict:
    return {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": s, "quantity": 1} for s in SKUS[:60]]}


def test_a_server_killed_in_the_middle_of_an_order_leaves_no_trace_of_it(
        stocked, ctx, db_url, tmp_path):
    probe = Probe(db_url)
    served = serve(write_config(tmp_path, probe.url), workers=1)
    key = create_key(ctx, "admin")
    keys: list[str] = []

    def place() -> None:
        keys.append(uuid.uuid4().hex)
        call("POST", served.base + "/v1/orders", key, big_order(),
             **{"Idempotency-Key": keys[-1]})

    placing = Repeating(probe, place)
    try:
        left = kill_inside_transaction(probe, lambda: worker(served), lambda: placing.before)
        placing.stop()
        assert left is not None, "never caught inside an order's transaction"
        assert probe.committed() == left
        assert_ledger_consistent(ctx)
        placed = left[3]  # orders before the killed one
        again = call("POST", served.base + "/v1/orders", key, big_order(),
                     **{"Idempotency-Key": keys[-1]})
        assert again.status == 201
        assert probe.committed()[3] == placed + 1  # placed once
        assert_ledger_consistent(ctx)
    finally:
        placing.stop()
        served.process.stop()
        probe.close()


def drop_counts(inbox: Path, n: int) -> None:
    """A snapshot file of both DCs (each drop its own counts), old enough to read at once."""
    path = inbox / f"counts-{n:03d}.csv"
    rows = [f"{loc},{s},{10 + n}" for loc in LOCATIONS for s in SKUS]
    path.write_text("location,sku,on_hand\n" + "\n".join(rows) + "\n")
    past = time.time() - 30
    os.utime(path, (past, past))


def test_a_feed_run_killed_in_the_middle_of_a_file_leaves_the_stock_and_the_file_new(
        stocked, ctx, db_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    probe = Probe(db_url)
    config = write_config(tmp_path, probe.url, (
        f"feeds:\n  - {{name: counts, kind: stock_snapshot, source: '{inbox}/*.csv', "
        "format: csv}\n"))
    try:
        left = None
        for n in range(8):  # each run that ends before it is caught leaves the next file
            drop_counts(inbox, n)
            left = kill_feed_run(probe, config, n)
            if left is not None:
                break
        assert left is not None, "never caught inside a feed file's transaction"
        assert probe.committed() == left  # previous stock; no run record, the file not kept
        assert_ledger_consistent(ctx)
        again = oms(["feeds", "run", "counts"], config)
        assert again.returncode == 0, again.stderr
        with ctx.sessions() as session:
            assert session.scalar(select(StockPosition.on_hand).where(
                StockPosition.location_id == "DC-2", StockPosition.sku == SKUS[-1])) == 10 + n
            assert session.scalar(select(func.count()).select_from(FeedFile)) == n + 1
    finally:
        probe.close()


def kill_feed_run(probe: Probe, config: Path, n: int) -> tuple | None:
    """`oms feeds run counts`, killed inside its transaction if it is caught there."""
    before = probe.committed()
    run = start(f"feeds-run-{n}", ["feeds", "run", "counts"], config)
    left = kill_inside_transaction(probe, lambda: run.popen.pid, lambda: before, timeout=60,
                                   ended=lambda: run.popen.poll() is not None)
    run.popen.wait(timeout=60)
    return left
