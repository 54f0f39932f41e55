"""Races and inputs found in review: each must stay correct on SQLite and PostgreSQL."""

import threading
import time

import pytest

from service.domain.roles import Role
from service.errors import NotFound
from service.services import orders, reservations, rulesets
from tests.support import T1, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def stocked(small_network):
    from service.services import stock_push

    stock_push.push_snapshot(small_network, ADMIN, snapshot("DC-1", T1, {"A": 10, "B": 4}),
                             snapshot("DC-1", T1, {"A": 10, "B": 4})["items"])
    return small_network


def test_releasing_one_hold_twice_at_once_frees_its_units_once(stocked):
    first = reservations.create(stocked, ADMIN, {"channel": "web", "sku": "A", "quantity": 2})
    reservations.create(stocked, ADMIN, {"channel": "web", "sku": "A", "quantity": 3})
    barrier = threading.Barrier(2)

    def release():
        barrier.wait()
        reservations.release(stocked, ADMIN, first["id"])

    threads = [threading.Thread(target=release) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_ledger_consistent(stocked)


def test_a_ruleset_switch_racing_a_hold_leaves_exact_figures(stocked):
    session = stocked.sessions()
    session.begin()
    rulesets.activate(stocked.rules, session, "strict", 1, "test")  # recomputed, uncommitted
    done = []

    def hold():
        done.append(reservations.create(stocked, ADMIN,
                                        {"channel": "web", "sku": "A", "quantity": 1}))

    worker = threading.Thread(target=hold)
    worker.start()
    time.sleep(0.5)  # the hold waits for the switch (database lock or advisory lock)
    session.commit()
    session.close()
    worker.join()
    assert done and done[0]["ruleset"] == "strict@1"
    assert_ledger_consistent(stocked)


def test_an_order_for_a_channel_the_ruleset_does_not_define_is_refused(stocked):
    body = {"channel": "nosuch", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": "A", "quantity": 1}]}
    with pytest.raises(NotFound, match="known: "):
        orders.place(stocked, ADMIN, body, None)
