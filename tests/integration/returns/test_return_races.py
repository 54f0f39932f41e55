"""Returns racing each other, on SQLite and PostgreSQL: every writer of an order's returns
takes the order's row lock first, so two returns never both take the last returnable unit,
and two receipts never both take the last open unit of a return."""

import pytest

from service.domain.roles import Role
from service.errors import OverReceipt, OverReturn
from service.services.inventory import pushes
from service.services.orders import fulfilment, placing
from service.services.returns import opening, receiving
from tests.integration.orders.test_writers_racing import run_together
from tests.support import T1, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")
NYC = {"lat": 40.71, "lon": -74.0}
THREADS = 4
ROUNDS = 5


@pytest.fixture
def policy():
    return "returns@1"


@pytest.fixture
def stocked(small_network):
    body = snapshot("DC-1", T1, {"B": 50})
    pushes.push_snapshot(small_network, ADMIN, body, body["items"])
    return small_network


def ship_order(ctx) -> str:
    """An order of 3 B from DC-1, shipped; its id."""
    placed = placing.place(ctx, ADMIN, {"channel": "web", "ship_to": NYC,
                                        "lines": [{"sku": "B", "quantity": 3}]}, None)
    fulfilment.report(ctx, ADMIN, placed["fulfilments"][0]["id"], {"type": "shipped"})
    return placed["id"]


@pytest.fixture
def shipped_order(stocked):
    return ship_order(stocked)


def test_returns_racing_for_the_same_units_never_return_more_than_shipped(stocked):
    for _round in range(ROUNDS):
        order_id = ship_order(stocked)
        opened = []

        def open_two(o=order_id, opened=opened):
            opened.append(opening.open_for_order(
                stocked, ADMIN, o, {"lines": [{"sku": "B", "quantity": 2}]}, None))

        raised = run_together(*[open_two] * THREADS)

        assert len(opened) == 1, opened
        assert len(raised) == THREADS - 1, raised
        assert all(isinstance(e, OverReturn) for e in raised), raised
        left = opening.open_for_order(stocked, ADMIN, order_id,
                                      {"lines": [{"sku": "B", "quantity": 1}]}, None)
        assert left["status"] == "opened"


def test_receipts_racing_for_the_last_units_never_receive_more_than_opened(
        stocked, shipped_order):
    ctx = stocked
    ret = opening.open_for_order(ctx, ADMIN, shipped_order,
                                 {"lines": [{"sku": "B", "quantity": 2}]}, None)
    body = {"location": "ST-2", "lines": [{"sku": "B", "quantity": 1, "condition": "new",
                                           "reason": "too big"}]}

    raised = run_together(*[lambda: receiving.receive_return(ctx, ADMIN, ret["id"], body)]
                          * THREADS)

    assert len(raised) == THREADS - 2 and all(isinstance(e, OverReceipt) for e in raised)
    after = receiving.read(ctx, ADMIN, ret["id"])
    assert after["status"] == "received" and len(after["receipts"]) == 2
    assert after["lines"][0]["received"] == 2
    assert_ledger_consistent(ctx)
