"""A re-route's allocation and its order's save: on PostgreSQL one statement writes both (the
order's rows, new fulfilments and events, settlements, backlog, wakeups) when no planned
position moved since the plan read it; otherwise it writes nothing and the general way
allocates and saves once. Either way the stored order, ledger and backlog are exact (SQLite
and PostgreSQL; SQLite always takes the general way)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.domain.roles import Role
from service.services.inventory import pushes
from service.services.orders import placing, rejecting
from service.store import order_saves_pg
from service.store.models import BackorderWakeup, Event, SettlementRecord, StockPosition
from tests.support import T1, assert_ledger_consistent, snapshot, writes_sent_by_sqlalchemy

ADMIN = Role.parse("admin")
NEW_YORK = {"lat": 40.7, "lon": -74.0}


@pytest.fixture
def policy():
    return "ledger@1"


@pytest.fixture
def stocked(small_network):
    """A: 10 at ST-1 (New York), 20 at DC-1; B: 5 at DC-1 only (web sells all but two of a
    store's units, ledger@1)."""
    for location, counts in {"ST-1": {"A": 10}, "DC-1": {"A": 20, "B": 5}}.items():
        body = snapshot(location, T1, counts)
        pushes.push_snapshot(small_network, ADMIN, body, body["items"])
    return small_network


@pytest.fixture
def one_statement(monkeypatch):
    """Every Saved of the one-statement re-route (PostgreSQL only sends it)."""
    calls: list[order_saves_pg.Saved] = []
    original = order_saves_pg.allocate_and_save

    def spy(*args, **kwargs):
        calls.append(original(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(order_saves_pg, "allocate_and_save", spy)
    return calls


def place(ctx, lines, **extra):
    return placing.place(ctx, ADMIN, {"channel": "web", "ship_to": NEW_YORK, "lines": lines,
                                      **extra}, None)


def reject(ctx, fulfilment_id):
    return rejecting.reject(ctx, ADMIN, fulfilment_id,
                            {"type": "rejected", "reason": "not_found"})


def allocated(ctx, location, sku):
    with ctx.sessions() as session:
        return session.scalar(select(StockPosition.allocated).where(
            StockPosition.location_id == location, StockPosition.sku == sku))


def events_of(ctx, aggregate_ids):
    with ctx.sessions() as session:
        return sorted(session.scalars(select(Event.type).where(
            Event.aggregate_id.in_(aggregate_ids))))


def assert_backlog_exact(ctx):
    with ctx.reading() as uow:
        assert uow.orders.backlog.per_location() == uow.orders.open_lines_per_location()


def test_a_reroute_on_unchanged_stock_is_allocated_and_saved_by_one_statement(
        stocked, one_statement):
    placed = place(stocked, [{"sku": "A", "quantity": 4}])
    [first] = placed["fulfilments"]
    assert first["location"] == "ST-1"

    other_writes = writes_sent_by_sqlalchemy(stocked, lambda: reject(stocked, first["id"]))

    postgres = stocked.engine.dialect.name == "postgresql"
    assert [s.outcome.taken for s in one_statement] == ([True] if postgres else [])
    if postgres:
        assert other_writes == []  # nothing of the re-route went in a statement of its own
        assert len(one_statement[0].lines) == 1  # the new fulfilment's one line, with its id
    with stocked.reading() as uow:
        order = uow.orders.get(placed["id"])
    source, new = order.fulfilment(first["id"]), order.fulfilments[-1]
    assert (source.status, new.location_id, new.status) == ("rejected", "DC-1", "created")
    assert [(ln.sku, ln.quantity, ln.open) for ln in new.lines] == [("A", 4, 4)]
    assert new.lines[0].id is not None
    assert (allocated(stocked, "ST-1", "A"), allocated(stocked, "DC-1", "A")) == (0, 4)
    assert order.explanation["reroutes"][0]["shipments"][0]["fulfilment"] == new.id
    assert "fulfilment.rerouted" in events_of(stocked, [first["id"]])
    assert events_of(stocked, [new.id]) == ["fulfilment.requested"]
    assert_backlog_exact(stocked)
    assert_ledger_consistent(stocked)


def test_a_reroute_whose_planned_stock_moved_writes_nothing_at_once_then_all_of_it_once(
        stocked, one_statement, plans_read_before_a_change):
    placed = place(stocked, [{"sku": "A", "quantity": 4}])
    [first] = placed["fulfilments"]

    after = reject(stocked, first["id"])

    postgres = stocked.engine.dialect.name == "postgresql"
    assert [s.outcome.taken for s in one_statement] == ([False] if postgres else [])
    assert after["status"] == "rejected" and after["order_status"] == "created"
    with stocked.reading() as uow:
        order = uow.orders.get(placed["id"])
    assert [(f.location_id, f.status) for f in order.fulfilments] == [
        ("ST-1", "rejected"), ("DC-1", "created")]
    assert len(order.explanation["reroutes"]) == 1
    new = order.fulfilments[-1]
    assert events_of(stocked, [new.id]) == ["fulfilment.requested"]  # once
    assert (allocated(stocked, "ST-1", "A"), allocated(stocked, "DC-1", "A")) == (0, 4)
    assert_backlog_exact(stocked)
    assert_ledger_consistent(stocked)


def test_units_a_reroute_gives_back_wake_the_order_waiting_for_them(stocked):
    first = place(stocked, [{"sku": "B", "quantity": 2}])
    waiting = place(stocked, [{"sku": "B", "quantity": 8}])  # 3 left to ship: 5 wait
    assert waiting["status"] == "partially_backordered"

    after = reject(stocked, first["fulfilments"][0]["id"])  # B is at DC-1 only

    assert after["order_status"] == "backordered"
    with stocked.sessions() as session:
        woken = list(session.scalars(select(BackorderWakeup.sku)))
    assert set(woken) == {"B"}  # (SQLite's general way wakes it again as the ATS rises)
    assert allocated(stocked, "DC-1", "B") == 3
    assert_backlog_exact(stocked)
    assert_ledger_consistent(stocked)


def test_a_reroute_gives_back_units_nobody_waits_for_without_a_wakeup(stocked):
    placed = place(stocked, [{"sku": "A", "quantity": 4}])

    reject(stocked, placed["fulfilments"][0]["id"])

    with stocked.sessions() as session:
        assert session.scalar(select(func.count()).select_from(BackorderWakeup)) == 0


def test_units_no_other_location_has_are_cancelled_and_settled_once(stocked):
    placed = place(stocked, [{"sku": "B", "quantity": 2, "unit_price": 7.5}],
                   on_short="ship_available")

    after = reject(stocked, placed["fulfilments"][0]["id"])

    assert after["order_status"] == "cancelled"
    with stocked.sessions() as session:
        settled = session.execute(select(SettlementRecord.kind, SettlementRecord.sku,
                                         SettlementRecord.quantity, SettlementRecord.amount)
                                  ).all()
    assert [(kind, sku, quantity, float(amount)) for kind, sku, quantity, amount in settled] \
        == [("cancelled", "B", 2, 15.0)]
    assert allocated(stocked, "DC-1", "B") == 0
    assert_backlog_exact(stocked)
    assert_ledger_consistent(stocked)
