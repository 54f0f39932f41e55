"""Many clients ordering the same few SKUs: no oversell, no duplicate, no 500.

Threads, and separate processes (each with its own engine, as gunicorn workers have),
run on SQLite (one file, writers queue on BEGIN IMMEDIATE) and on PostgreSQL (row locks).
"""

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from service.bootstrap import build_context
from service.domain.roles import Role
from service.errors import InsufficientStock
from service.feeds.stock_rows import StockRow
from service.services.inventory import deltas
from service.services.orders import placing
from service.services.rulesets import governance
from service.store.models import FulfilmentLineRow, OrderLineRow, OrderRow, StockPosition
from tests.support import assert_ledger_consistent

ADMIN = Role.parse("admin")
HOT = ["A", "B"]


@pytest.fixture
def policy() -> str:
    return "ledger@1"


@pytest.fixture
def scarce(small_network):
    """A: 6 at DC-1 and 4 at ST-2 (web may take 2 there); B: 5 at DC-1."""
    from datetime import UTC, datetime

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [StockRow(1, "DC-1", "A", t0, on_hand=6), StockRow(2, "ST-2", "A", t0, on_hand=4),
            StockRow(3, "DC-1", "B", t0, on_hand=5)]
    with small_network.transaction() as uow:
        deltas.apply_deltas(small_network, uow, rows, [], 3)
    return small_network


def body(i: int) -> dict:
    return {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0}, "order_ref": f"o{i}",
            "lines": [{"sku": HOT[i % 2], "quantity": 1 + i % 2}]}


def place(ctx, i: int, key: str | None = None) -> str:
    try:
        result = placing.place(ctx, ADMIN, body(i), key)
    except InsufficientStock:
        return "409"
    return "201:" + result["id"]


def assert_no_oversell(ctx, shown=None):
    """No position allocates more than it holds, nor a channel more than it was shown."""
    shown = shown or {"A": 6 + 2, "B": 5}  # ledger@1: stores keep two back
    with ctx.sessions() as session:
        for pos in session.scalars(select(StockPosition)):
            assert pos.allocated <= pos.on_hand
        allocated = dict(session.execute(
            select(FulfilmentLineRow.sku, func.sum(FulfilmentLineRow.quantity))
            .group_by(FulfilmentLineRow.sku)).all())
    assert all(allocated.get(sku, 0) <= units for sku, units in shown.items())


def concurrently(clients: int, requests: Callable[[int], list[str]]) -> list[str]:
    """Run requests(n) for n in range(clients) on threads released together; all results."""
    barrier = threading.Barrier(clients)

    def run(n: int) -> list[str]:
        barrier.wait()
        return requests(n)

    with ThreadPoolExecutor(clients) as pool:
        return [r for batch in pool.map(run, range(clients)) for r in batch]


def test_concurrent_threads_never_oversell(scarce):
    results = concurrently(12, lambda n: [place(scarce, i) for i in range(n * 5, n * 5 + 5)])
    assert len(results) == 60 and all(r == "409" or r.startswith("201:") for r in results)
    assert_no_oversell(scarce)
    with scarce.sessions() as session:
        backordered = session.scalar(select(func.sum(OrderLineRow.quantity_backordered)))
        placed = session.scalar(select(func.count()).select_from(OrderRow))
    assert placed == sum(r.startswith("201:") for r in results) and backordered > 0
    assert_ledger_consistent(scarce)


def test_under_a_reject_policy_every_request_is_allocated_or_refused(scarce):
    governance.activate(scarce, {"name": "strict", "version": 1}, "test")
    results = concurrently(10, lambda n: [place(scarce, i) for i in range(n * 4, n * 4 + 4)])
    assert "409" in results and any(r.startswith("201:") for r in results)
    assert_no_oversell(scarce, {"A": 10, "B": 5})  # strict@1 holds nothing back
    with scarce.sessions() as session:
        assert session.scalar(select(func.sum(OrderLineRow.quantity_backordered))) == 0


def test_concurrent_retries_with_one_key_create_one_order(scarce):
    results = concurrently(8, lambda _n: [place(scarce, 0, key="same-key")])
    assert len(set(results)) == 1 and results[0].startswith("201:")
    with scarce.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == 1


def _process_client(settings, worker: int, out) -> None:
    ctx = build_context(settings)
    for i in range(worker * 10, worker * 10 + 10):
        first = place(ctx, i, key=f"p{i}")
        out.put((first, place(ctx, i, key=f"p{i}")))  # and a retry of the same request
    ctx.close()


def test_concurrent_processes_never_oversell_or_duplicate(scarce, db_url):
    queue = multiprocessing.get_context("spawn").Queue()
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_process_client, args=(scarce.settings, w, queue))
             for w in range(4)]
    for p in procs:
        p.start()
    pairs = [queue.get(timeout=120) for _ in range(40)]
    for p in procs:
        p.join(timeout=60)
    results = [r for pair in pairs for r in pair]
    assert all(r == "409" or r.startswith("201:") for r in results)
    assert all(retry == first for first, retry in pairs if first.startswith("201:"))
    assert_no_oversell(scarce)
    with scarce.sessions() as session:
        refs = session.scalars(select(OrderRow.order_ref)).all()
    assert len(refs) == len(set(refs)) == sum(first.startswith("201:") for first, _ in pairs)
    assert_ledger_consistent(scarce)
