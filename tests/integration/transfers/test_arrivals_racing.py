"""Units in transit counted by a channel (transit@1), with writers racing, on SQLite and
PostgreSQL: receipts of two transfers of one SKU, the arrivals job, a count at the
destination and an order all recompute or move the same kept figures at once, and the kept
figures end equal to a fresh recompute (nothing counted twice, nothing lost).
"""

from datetime import UTC, datetime, timedelta

import pytest

from service.clock import MovableClock
from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import placing
from service.services.transfers import arrivals, creating, events
from tests.integration.orders.test_writers_racing import run_together
from tests.support import T1, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
NYC = {"lat": 40.71, "lon": -74.0}


@pytest.fixture
def policy() -> str:
    return "transit@1"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def stocked(small_network):
    body = snapshot("DC-1", T1, {"A": 100, "B": 100})
    pushes.push_snapshot(small_network, ADMIN, body, body["items"])
    return small_network


def shipped(ctx, sku: str, units: int, hours: float, to: str = "ST-2") -> str:
    created = creating.create(ctx, ADMIN, {
        "from": "DC-1", "to": to, "lines": [{"sku": sku, "quantity": units}],
        "expected_at": (START + timedelta(hours=hours)).isoformat()}, None)
    events.report(ctx, ADMIN, created["id"], {"type": "shipped"})
    return created["id"]


def receive(ctx, transfer_id: str, sku: str, units: int):
    return lambda: events.report(ctx, ADMIN, transfer_id, {
        "type": "received", "lines": [{"sku": sku, "quantity": units}]})


def test_receipts_the_job_a_count_and_an_order_racing_keep_the_figures_exact(
        stocked, clock):
    for round_ in range(3):
        first = shipped(stocked, "A", 3, 10)
        second = shipped(stocked, "A", 4, 20)
        late = shipped(stocked, "A", 5, 60 + round_)
        clock.advance(13 * 3600)  # `late` enters the 48 hours
        count = {"items": [{"location": "ST-1", "sku": "A", "adjust": 1,
                            "as_of": (clock.now()).isoformat()}]}

        raised = run_together(
            receive(stocked, first, "A", 3),
            receive(stocked, second, "A", 2),
            lambda: arrivals.refresh_arrivals(stocked),
            lambda c=count: pushes.push_deltas(stocked, ADMIN, c, c["items"]),
            lambda: placing.place(stocked, ADMIN, {"channel": "web", "ship_to": NYC,
                                                   "lines": [{"sku": "A", "quantity": 1}]},
                                  None))

        assert raised == []
        assert_ledger_consistent(stocked)
        events.report(stocked, ADMIN, late, {"type": "closed"})
        assert_ledger_consistent(stocked)


def test_two_arrival_passes_at_once_leave_the_figures_exact(stocked, clock):
    shipped(stocked, "A", 5, 60)
    shipped(stocked, "B", 5, 70)
    clock.advance(30 * 3600)

    raised = run_together(*[lambda: arrivals.refresh_arrivals(stocked)] * 3)

    assert raised == []
    assert_ledger_consistent(stocked)
