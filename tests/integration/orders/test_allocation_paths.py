"""An order takes its units at once when the planned positions are as read, and re-checks them
when they changed in between: never more than is there, the ATS always exact."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import placing, reading, requests, sourcing
from service.store import allocation_pg
from service.store.models import (
    Event,
    InventoryJournalEntry,
    LocationBacklog,
    OrderRow,
    StockPosition,
)
from tests.support import T1, T2, assert_ledger_consistent, snapshot

ADMIN = Role.parse("admin")
ORDER = {"channel": "web", "ship_to": {"lat": 39.1, "lon": -84.5},
         "lines": [{"sku": "A", "quantity": 2}]}


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def stocked(small_network):
    counts = {"A": 10, "B": 4}
    pushes.push_snapshot(small_network, ADMIN, snapshot("DC-1", T1, counts),
                         snapshot("DC-1", T1, counts)["items"])
    return small_network


@pytest.fixture
def one_statement_calls(monkeypatch):
    """Every outcome of the one-statement allocation (PostgreSQL only uses it), alone or
    with the order's insert."""
    calls: list[allocation_pg.Outcome] = []
    original = allocation_pg.outcome

    def spy(*args, **kwargs):
        calls.append(original(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(allocation_pg, "outcome", spy)
    return calls


def allocated(ctx, location: str, sku: str) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(StockPosition.allocated).where(
            StockPosition.location_id == location, StockPosition.sku == sku))


def test_an_order_on_unchanged_stock_is_allocated_in_one_statement_on_postgresql(
        stocked, one_statement_calls):
    placed = placing.place(stocked, ADMIN, ORDER, None)
    assert placed["fulfilments"][0]["location"] == "DC-1"
    assert allocated(stocked, "DC-1", "A") == 2
    postgres = stocked.engine.dialect.name == "postgresql"
    assert [c.taken for c in one_statement_calls] == ([True] if postgres else [])
    assert_ledger_consistent(stocked)


def test_a_position_changed_since_the_plan_read_it_is_rechecked_and_then_allocated(
        stocked, one_statement_calls, plans_read_before_a_change):
    placed = placing.place(stocked, ADMIN, ORDER, None)
    assert placed["lines"][0]["allocated"] == 2
    assert allocated(stocked, "DC-1", "A") == 2  # taken once, by the re-checking path
    postgres = stocked.engine.dialect.name == "postgresql"
    assert [c.taken for c in one_statement_calls] == ([False] if postgres else [])
    if postgres:
        [refused] = one_statement_calls
        assert list(refused.current.values()) == [(10, 0, 0)] and not refused.ats_moved
    assert_ledger_consistent(stocked)



def test_an_order_whose_planned_stock_moved_is_written_once_with_one_allocation(
        stocked, plans_read_before_a_change):
    """On PostgreSQL the allocation's statement also inserts the order; refused, it wrote
    neither, and the re-checking path writes both once."""
    placed = placing.place(stocked, ADMIN, ORDER, None)
    with stocked.sessions() as session:
        orders = session.scalar(select(func.count()).select_from(OrderRow))
        events = sorted(session.scalars(select(Event.type).where(
            Event.aggregate_id.in_([placed["id"]] + [f["id"] for f in placed["fulfilments"]]))))
        backlog = session.scalar(select(LocationBacklog.open_lines).where(
            LocationBacklog.location_id == "DC-1"))
        journal = session.execute(select(InventoryJournalEntry.cause,
                                         InventoryJournalEntry.allocated_after)
                                  .order_by(InventoryJournalEntry.id)).all()  # oldest first
    assert orders == 1 and backlog == 1
    assert "order.placed" in events and len(events) == len(set(events))  # each once
    assert journal[-1] == ("order", 2) and [c for c, _a in journal].count("order") == 1
    assert_ledger_consistent(stocked)


def test_a_location_changed_in_master_data_is_costed_afresh_by_the_next_plan(stocked):
    from service.services.masterdata import upserts
    from tests.conftest import SMALL_LOCATIONS

    def plan_location(ctx):
        with ctx.reading() as uow:
            ruleset = ctx.rules.active(uow)
            catalog = uow.catalog()
            req = requests.parse(ORDER, catalog, 100)
            return sourcing.plan(ctx, uow, ruleset, catalog, req,  # one location at a
                                 first_ring=1).plan.shipments[0]  # time, by cost floor

    assert plan_location(stocked).location_id == "DC-1"
    pushes.push_snapshot(stocked, ADMIN, snapshot("ST-2", T1, {"A": 10}),
                         snapshot("ST-2", T1, {"A": 10})["items"])
    moved = [{**loc, "lat": 39.1, "lon": -84.5} if loc["id"] == "ST-2" else loc
             for loc in SMALL_LOCATIONS]  # ST-2 moves next door to the ship-to
    upserts.upsert_locations(stocked, moved)
    assert plan_location(stocked).location_id == "ST-2"


def test_an_attempt_the_database_aborted_as_a_deadlock_is_retried(stocked, monkeypatch):
    from sqlalchemy.exc import OperationalError

    class Deadlock(Exception):
        sqlstate = "40P01"

    real, calls = placing._place_once, []

    def deadlocked_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE ...", {}, Deadlock("deadlock detected"))
        return real(*args, **kwargs)

    monkeypatch.setattr(placing, "_place_once", deadlocked_once)
    placed = placing.place(stocked, ADMIN, ORDER, "retry-after-deadlock")
    assert len(calls) == 2 and placed["lines"][0]["allocated"] == 2
    assert allocated(stocked, "DC-1", "A") == 2


def test_the_201_body_lists_a_split_order_s_fulfilments_as_reading_it_back_does(stocked):
    for location, counts in (("DC-1", {"B": 4}), ("ST-1", {"A": 6})):  # A and B apart
        pushes.push_snapshot(stocked, ADMIN, snapshot(location, T2, counts),
                             snapshot(location, T2, counts)["items"])
    two_places = {**ORDER, "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}]}
    for _ in range(4):  # fulfilment ids are random: their order differs from run to run
        placed = placing.place(stocked, ADMIN, two_places, None)
        assert len(placed["fulfilments"]) == 2
        read = reading.read(stocked, ADMIN, placed["id"])
        assert [f["id"] for f in read["fulfilments"]] == [f["id"] for f in placed["fulfilments"]]


def test_a_unit_price_is_kept_to_the_cent_in_the_answer_and_in_the_order(stocked):
    priced = {**ORDER, "lines": [{"sku": "A", "quantity": 1, "unit_price": 9.995}]}
    placed = placing.place(stocked, ADMIN, priced, None)
    assert placed["lines"][0]["unit_price"] == 10.0
    assert reading.read(stocked, ADMIN, placed["id"])["lines"][0]["unit_price"] == 10.0


def test_orders_consuming_their_checkout_holds_concurrently_all_succeed(small_network):
    import threading

    from service.services.inventory import reservations

    for location in ("DC-1", "ST-1", "ST-2"):
        counts = {"A": 200, "B": 200, "C": 200}
        pushes.push_snapshot(small_network, ADMIN, snapshot(location, T1, counts),
                             snapshot(location, T1, counts)["items"])
    failures: list[BaseException] = []

    def checkout(worker: int) -> None:
        try:
            for n in range(6):
                skus = ["A", "B", "C"][worker % 3:] + ["A", "B", "C"][:worker % 3]
                reservation = reservations.create(small_network, ADMIN,
                                           {"channel": "web", "sku": skus[0], "quantity": 1})
                placing.place(small_network, ADMIN, {
                    "channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
                    "reservations": [reservation["id"]],
                    "lines": [{"sku": skus[0], "quantity": 1}, {"sku": skus[1], "quantity": 2}],
                }, f"checkout-{worker}-{n}")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=checkout, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert_ledger_consistent(small_network)
