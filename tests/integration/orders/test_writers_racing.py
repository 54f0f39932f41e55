"""Writers racing each other stay correct on SQLite and PostgreSQL: a reservation released
twice at once, a ruleset switch racing a reservation, an order for an unknown channel."""

import threading
import time

import pytest
from sqlalchemy import select

from service.domain.roles import Role
from service.errors import NotFound
from service.services.inventory import pushes, reservations
from service.services.orders import placing
from service.services.rulesets import governance
from service.store.models import Reservation, StockPosition
from tests.support import T1, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def stocked(small_network):
    pushes.push_snapshot(small_network, ADMIN, snapshot("DC-1", T1, {"A": 10, "B": 4}),
                         snapshot("DC-1", T1, {"A": 10, "B": 4})["items"])
    return small_network


def run_together(*work):
    """Run each callable in its own thread, all released at once; the exceptions raised."""
    barrier = threading.Barrier(len(work))
    raised: list[BaseException] = []

    def run(job):
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted by the caller
            raised.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return raised


def test_releasing_one_reservation_twice_at_once_frees_its_units_once(stocked):
    first = reservations.create(stocked, ADMIN, {"channel": "web", "sku": "A", "quantity": 2})
    reservations.create(stocked, ADMIN, {"channel": "web", "sku": "A", "quantity": 3})

    raised = run_together(*[lambda: reservations.release(stocked, ADMIN, first["id"])] * 2)

    assert raised == []
    with stocked.sessions() as session:
        assert session.get(Reservation, first["id"]).status == "released"
        assert session.scalar(select(StockPosition.reserved).where(
            StockPosition.location_id == "DC-1", StockPosition.sku == "A")) == 3
    assert_ledger_consistent(stocked)


def test_a_ruleset_switch_racing_a_reservation_leaves_exact_ats(stocked):
    done: list = []
    raised: list[BaseException] = []

    def reserve():
        try:
            done.append(reservations.create(stocked, ADMIN,
                                            {"channel": "web", "sku": "A", "quantity": 1}))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            raised.append(exc)

    with stocked.transaction() as uow:
        governance.switch(stocked, uow, "strict", 1, "test")  # recomputed, uncommitted
        worker = threading.Thread(target=reserve)
        worker.start()
        time.sleep(0.5)  # the reservation waits for the switch (database or advisory lock)
        assert done == [] and raised == []
    worker.join()
    assert raised == [] and done and done[0]["ruleset"] == "strict@1"
    assert_ledger_consistent(stocked)


def test_an_order_for_a_channel_the_ruleset_does_not_define_is_refused(stocked):
    body = {"channel": "nosuch", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": "A", "quantity": 1}]}
    with pytest.raises(NotFound, match="known: "):
        placing.place(stocked, ADMIN, body, None)
