"""Backorder release racing other writers, on SQLite and PostgreSQL: a release and a new
order for the last unit, two release passes at once, and the stock paths that wake it.

A release takes its order's row lock and allocates as placing does (the channel's ATS
re-checked on the locked position), so whichever comes second sees what the first took:
nothing is oversold, no unit is lost, an order is released once.
"""

import pytest
from sqlalchemy import select

from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import placing, reading, releasing
from service.store.models import BackorderWakeup, Event
from tests.integration.orders.test_rejection_races import nothing_oversold, units_accounted_for
from tests.integration.orders.test_writers_racing import run_together
from tests.support import T1, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")
NYC = {"lat": 40.71, "lon": -74.0}


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def stocked(small_network):
    """B: 2 at DC-1, nowhere else."""
    body = snapshot("DC-1", T1, {"B": 2})
    pushes.push_snapshot(small_network, ADMIN, body, body["items"])
    return small_network


def place(ctx, quantity: int) -> dict:
    return placing.place(ctx, ADMIN, {"channel": "web", "ship_to": NYC,
                                      "lines": [{"sku": "B", "quantity": quantity}]}, None)


def add_stock(ctx, units: int, as_of: str) -> None:
    body = {"items": [{"location": "DC-1", "sku": "B", "adjust": units, "as_of": as_of}]}
    pushes.push_deltas(ctx, ADMIN, body, body["items"])


def waiting(ctx, order_id: str) -> int:
    return sum(line["backordered"] for line in reading.read(ctx, ADMIN, order_id)["lines"])


def test_a_release_racing_a_new_order_for_the_last_unit_oversells_nothing(stocked):
    place(stocked, 2)  # every unit held
    for round_ in range(3):
        old_id = place(stocked, 1)["id"]
        assert waiting(stocked, old_id) == 1
        add_stock(stocked, 1, f"2026-03-01T1{round_}:00:00Z")  # the last unit
        newer: list[dict] = []

        raised = run_together(
            lambda o=old_id: releasing.release_order(stocked, o, "stock_rose"),
            lambda n=newer: n.append(place(stocked, 1)))

        assert raised == []
        [new] = newer
        # exactly one of them has the last unit: the other waits for it (nothing oversold)
        assert waiting(stocked, old_id) + waiting(stocked, new["id"]) == 1
        units_accounted_for(stocked, old_id)
        units_accounted_for(stocked, new["id"])
        nothing_oversold(stocked)
        assert_ledger_consistent(stocked)


def test_two_release_passes_at_once_release_each_order_once(stocked):
    orders = [place(stocked, 2)["id"]] + [place(stocked, 1)["id"] for _ in range(3)]
    add_stock(stocked, 3, "2026-03-01T11:00:00Z")
    released: list[list[str]] = []

    raised = run_together(*[lambda: released.append(releasing.release_all(stocked))] * 2)

    assert raised == []
    assert sorted(released[0] + released[1]) == sorted(orders[1:])  # each by one pass
    assert [waiting(stocked, o) for o in orders] == [0, 0, 0, 0]
    with stocked.sessions() as session:
        events = session.scalars(select(Event.aggregate_id).where(
            Event.type == "order.released")).all()
    assert sorted(events) == sorted(orders[1:])
    nothing_oversold(stocked)
    assert_ledger_consistent(stocked)


def test_a_snapshot_that_raises_a_waited_for_sku_wakes_it(stocked):
    waiting_order = place(stocked, 4)["id"]
    body = snapshot("DC-1", "2026-03-01T11:00:00Z", {"B": 6})
    pushes.push_snapshot(stocked, ADMIN, body, body["items"])
    with stocked.sessions() as session:
        assert session.scalars(select(BackorderWakeup.sku)).all() == ["B"]

    assert releasing.release_woken(stocked) == [waiting_order]
    assert waiting(stocked, waiting_order) == 0
    assert releasing.release_woken(stocked) == []
    assert_ledger_consistent(stocked)
