"""Many writers at once on one database, SQLite above all: two servers of two workers each
taking orders, snapshot pushes and deltas, a scheduler running its jobs every second, and a
feed run applying a large file meanwhile. Every request is answered (never 500, never
"database is locked"), no process logs a locked database, and the ledger adds up.
"""

from __future__ import annotations

import os
import time

import pytest

from service.domain.roles import Role
from service.services.access.keys import create_key
from service.services.inventory.pushes import push_snapshot
from service.services.masterdata import upserts
from service.services.rulesets import governance
from tests.api.load import SMALL_LOCATIONS, Load
from tests.processes import call, oms, serve, start, write_config
from tests.support import assert_ledger_consistent

SKUS = [f"W{i:04d}" for i in range(800)]


@pytest.fixture
def policy() -> str:
    return "strict@1"


@pytest.fixture
def network(ctx):
    upserts.upsert_locations(ctx, SMALL_LOCATIONS)
    upserts.upsert_products(ctx, [{"sku": s, "name": s, "category": "home", "price": 10}
                                  for s in ["A", "B", "C", *SKUS]])
    governance.start(ctx)
    push_snapshot(ctx, Role.parse("admin"), {"location": "DC-1", "as_of": "2026-03-01T10:00:00Z"},
                  [{"sku": s, "on_hand": 30} for s in ["A", "B", "C", *SKUS]])
    return ctx


def big_file(folder, n: int) -> None:
    path = folder / f"counts-{n}.csv"
    path.write_text("location,sku,on_hand\n" + "".join(
        f"{loc},{s},{n + 40}\n" for loc in ("DC-1", "ST-1") for s in SKUS))
    past = time.time() - 30
    os.utime(path, (past, past))


def test_concurrent_writers_are_answered_and_never_see_a_locked_database(
        network, ctx, db_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = write_config(tmp_path, db_url, (
        "inventory: {reservation_expiry_seconds: 1}\nfeeds:\n"
        f"  - {{name: counts, kind: stock_snapshot, source: '{inbox}/*.csv', format: csv}}\n"))
    key = create_key(ctx, "admin")
    servers = [serve(config, f"serve-{i}") for i in range(2)]
    scheduler = start("scheduler", ["scheduler"], config)
    feeds = []
    try:
        with Load([s.base for s in servers], key, clients=4) as load:
            for n in range(2):
                big_file(inbox, n)
                feeds.append(oms(["feeds", "run", "counts"], config))
                answer = call("POST", servers[n % 2].base + "/v1/inventory/deltas", key, {
                    "items": [{"location": "ST-1", "sku": s, "adjust": 1} for s in SKUS[:300]]})
                assert answer.status == 200, answer.body
    finally:
        for process in [*(s.process for s in servers), scheduler]:
            process.stop()
    statuses = {s.answer.status for s in load.sent}
    assert statuses <= {200, 201, 409}, [s.answer.body for s in load.sent
                                         if s.answer.status not in {200, 201, 409}][:3]
    assert all(f.returncode == 0 for f in feeds), [f.stderr[-2000:] for f in feeds]
    logs = [p.output() for p in [*(s.process for s in servers), scheduler]]
    logs += [f.stdout + f.stderr for f in feeds]
    assert not any("database is locked" in log for log in logs)
    assert_ledger_consistent(ctx)
