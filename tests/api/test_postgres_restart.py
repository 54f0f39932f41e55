"""PostgreSQL restarted under load, on a cluster of the test's own (never the shared one).

While the database is down every request fails cleanly: 503 problem+json, code
`database_unavailable`, with Retry-After. Once it is back, the same `oms serve` workers and
the same scheduler serve and run jobs again, without a restart; retried orders (same
Idempotency-Key) are placed once, and nothing oversells.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.bootstrap import build_context
from service.settings import settings_from_dict
from service.store.models import JobLease, OrderRow, StockPosition
from tests.api.load import Load, order_body, seed
from tests.processes import (
    call,
    oms,
    postgres_tools,
    private_postgres,
    serve,
    start,
    write_config,
)
from tests.support import FIXTURES, assert_ledger_consistent

pytestmark = pytest.mark.skipif(
    not postgres_tools() and not os.environ.get("OMS_REQUIRE_POSTGRES"),
    reason="initdb and pg_ctl are not installed: no private PostgreSQL cluster")

DOWN_SECONDS = 3.0


@pytest.fixture
def cluster():
    with private_postgres() as pg:
        yield pg


def test_requests_fail_with_503_while_postgres_is_down_and_the_same_processes_serve_after(
        cluster, tmp_path):
    config = write_config(tmp_path, cluster.url,
                          "inventory: {reservation_expiry_seconds: 1}\nlogging: {level: INFO}\n")
    assert oms(["db", "upgrade"], config).returncode == 0
    key = oms(["keys", "create", "--role", "admin"], config).stdout.strip()
    served = serve(config)
    scheduler = start("scheduler", ["scheduler"], config)
    try:
        seed(served.base, key, {"DC-1": {"A": 60, "B": 60, "C": 60}})
        workers = sorted(served.process.children())
        ctx = context(cluster.url)
        assert scheduler_ran_since(ctx, datetime.now(UTC).replace(tzinfo=None))
        ctx.close()  # the test's own connections would die with the server
        with Load([served.base], key) as load:
            assert load.wait_for(201, 5)
            cluster.stop("fast")
            down_from = time.monotonic()
            time.sleep(DOWN_SECONDS)
            down_until = time.monotonic()
            cluster.start()
            restarted_at = datetime.now(UTC).replace(tzinfo=None)
            back = time.monotonic()
            assert load.wait_for(201, 3, since=back, timeout=30), "orders never placed again"
            assert load.wait_for(200, 3, since=back, timeout=30), "reads never answered again"
        assert sorted(served.process.children()) == workers  # the same worker processes
        assert scheduler.popen.poll() is None
        assert_clean_failures(load, down_from, down_until)
        ctx = context(cluster.url)
        assert scheduler_ran_since(ctx, restarted_at)
        assert "job rulesets.reload not run: the database cannot be reached" in \
            scheduler.output()
        placed = retry_failed_orders(load, served.base, key)
        assert_placed_once(ctx, placed)
        ctx.close()
    finally:
        served.process.stop()
        scheduler.stop()


def assert_clean_failures(load: Load, down_from: float, down_until: float) -> None:
    """Every answer is a success, a refusal or a 503 problem; while down, always the 503."""
    for sent in load.sent:
        answer = sent.answer
        assert answer.status in {200, 201, 409, 503}, (sent, answer.body)
        if answer.status == 503:
            assert answer.body["code"] == "database_unavailable", answer.body
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert int(answer.headers["Retry-After"]) >= 1
        if sent.started > down_from and sent.ended < down_until:
            assert answer.status == 503, (sent, answer.body)
    assert load.answered(503, since=down_from) > 0


def context(url: str):
    settings = settings_from_dict({"database_url": url, "rulesets": {
        "directory": str(FIXTURES / "rulesets"), "active": "strict@1"}})
    return build_context(settings)


def scheduler_ran_since(ctx, moment: datetime, timeout: float = 20) -> bool:
    """Whether the scheduler took a job's lease after `moment` (polls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.sessions() as session:
            newest = session.scalar(select(func.max(JobLease.expires_at)))
        if newest is not None and newest.replace(tzinfo=None) > moment:
            return True
        time.sleep(0.2)
    return False


def retry_failed_orders(load: Load, base: str, key: str) -> set[str]:
    """Send every order that got 503 again with its Idempotency-Key (placed or refused now);
    the keys of every order placed, at first or on the retry."""
    placed = set()
    for sent in load.sent:
        status = sent.answer.status
        if sent.kind == "order" and status == 503:
            status = call("POST", base + "/v1/orders", key, order_body(sent.sku),
                          **{"Idempotency-Key": sent.idempotency_key}).status
            assert status in {201, 409}
        if sent.kind == "order" and status == 201:
            placed.add(sent.idempotency_key)
    return placed


def assert_placed_once(ctx, placed: set[str]) -> None:
    """One order per key placed; allocations match the orders; nothing oversold."""
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == len(placed)
        for position in session.scalars(select(StockPosition)):
            assert position.allocated <= position.on_hand
    assert_ledger_consistent(ctx)
