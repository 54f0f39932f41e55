"""Transfers racing orders, each other and their own receipts, on threads released together.

On SQLite (writers queue on BEGIN IMMEDIATE) and PostgreSQL (row locks): a transfer takes
its units through the same locked positions orders do, so the last unit goes to exactly one;
two receipts of one transfer lock its row first, so they add up and never pass what shipped.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.domain.roles import Role
from service.errors import Conflict, InsufficientStock
from service.feeds.stock_rows import StockRow
from service.services.inventory import deltas
from service.services.orders import placing
from service.services.transfers import creating, events
from service.store.models import StockPosition
from tests.support import assert_ledger_consistent

ADMIN = Role.parse("admin")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def policy() -> str:
    return "ledger@1"


def add_units(ctx, location: str, sku: str, units: int, step: int) -> None:
    """A signed adjustment of a position (each a little later than the one before)."""
    row = StockRow(1, location, sku, T0 + timedelta(minutes=step), adjust=units)
    with ctx.transaction() as uow:
        deltas.apply_deltas(ctx, uow, [row], [], 1)


def together(*calls: Callable[[], str]) -> list[str]:
    """Run the calls on threads released at once; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], str]) -> str:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def position(ctx, location: str, sku: str) -> tuple[int, int]:
    with ctx.sessions() as session:
        row = session.execute(select(StockPosition.on_hand, StockPosition.allocated).where(
            StockPosition.location_id == location, StockPosition.sku == sku)).one()
    return row[0], row[1]


def move(ctx, quantity: int = 1, source: str = "DC-1") -> Callable[[], str]:
    def call() -> str:
        try:
            return "transfer:" + creating.create(ctx, ADMIN, {
                "from": source, "to": "ST-2", "lines": [{"sku": "A", "quantity": quantity}]},
                None)["id"]
        except InsufficientStock:
            return "409"
    return call


def order(ctx) -> Callable[[], str]:
    def call() -> str:
        try:
            placing.place(ctx, ADMIN, {"channel": "web", "ship_to": {"lat": 39.1, "lon": -84.5},
                                       "on_short": "reject",
                                       "lines": [{"sku": "A", "quantity": 1}]}, None)
            return "order"
        except InsufficientStock:
            return "409"
    return call


def test_a_transfer_and_an_order_racing_for_the_last_unit_never_both_win(small_network):
    ctx = small_network
    rounds = 6
    for step in range(rounds):
        add_units(ctx, "DC-1", "A", 1, step)
        results = together(move(ctx), order(ctx)) if step % 2 else together(order(ctx),
                                                                              move(ctx))
        assert sorted(r.split(":")[0] for r in results) in (["409", "order"],
                                                             ["409", "transfer"]), results
        assert position(ctx, "DC-1", "A") == (step + 1, step + 1)
    assert_ledger_consistent(ctx)


def test_two_transfers_for_more_than_the_source_holds_take_it_once(small_network):
    ctx = small_network
    add_units(ctx, "DC-1", "A", 10, 0)
    results = together(move(ctx, 6), move(ctx, 6), move(ctx, 6))
    assert sum(r.startswith("transfer:") for r in results) == 1
    assert position(ctx, "DC-1", "A") == (10, 6)
    assert_ledger_consistent(ctx)


def receipt(ctx, transfer_id: str, quantity: int) -> Callable[[], str]:
    def call() -> str:
        try:
            return events.report(ctx, ADMIN, transfer_id, {
                "type": "received", "lines": [{"sku": "A", "quantity": quantity}]})["status"]
        except Conflict:
            return "409"
    return call


def shipped_transfer(ctx, quantity: int) -> str:
    add_units(ctx, "DC-1", "A", quantity, 0)
    transfer_id = move(ctx, quantity)().removeprefix("transfer:")
    events.report(ctx, ADMIN, transfer_id, {"type": "shipped"})
    return transfer_id


def test_two_receipts_at_once_add_up(small_network):
    ctx = small_network
    transfer_id = shipped_transfer(ctx, 10)
    results = together(receipt(ctx, transfer_id, 5), receipt(ctx, transfer_id, 5))
    assert sorted(results) == ["partially_received", "received"]
    assert position(ctx, "ST-2", "A") == (10, 0)
    assert position(ctx, "DC-1", "A") == (0, 0)
    assert_ledger_consistent(ctx)


def test_two_receipts_at_once_never_receive_more_than_shipped(small_network):
    ctx = small_network
    transfer_id = shipped_transfer(ctx, 10)
    results = together(receipt(ctx, transfer_id, 6), receipt(ctx, transfer_id, 6))
    assert sorted(results) == ["409", "partially_received"]
    assert position(ctx, "ST-2", "A") == (6, 0)
    assert_ledger_consistent(ctx)


def test_concurrent_retries_with_one_key_create_one_transfer(small_network):
    ctx = small_network
    add_units(ctx, "DC-1", "A", 5, 0)
    body = {"from": "DC-1", "to": "ST-2", "lines": [{"sku": "A", "quantity": 4}]}

    def retry() -> str:
        return creating.create(ctx, ADMIN, body, "same-key")["id"]

    results = together(*[retry] * 4)
    assert len(set(results)) == 1
    assert position(ctx, "DC-1", "A") == (5, 4)
    assert_ledger_consistent(ctx)
