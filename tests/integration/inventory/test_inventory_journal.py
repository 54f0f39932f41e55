"""The inventory journal: every change of a position with its cause and ids, written in the
changing transaction, and stock as it was at any time since it began."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from service.clock import MovableClock
from service.domain.journal import CAUSES
from service.domain.roles import Role
from service.errors import InsufficientStock, OmsError
from service.feeds.stock_rows import StockRow
from service.services.inventory import deltas, journal, pushes, reservations
from service.services.orders import cancelling, fulfilment, placing, rejecting
from service.services.transfers import creating, events
from service.store.models import InventoryJournalEntry, StockPosition

ADMIN = Role.parse("admin")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SKUS = ("A", "B")


@pytest.fixture
def clock():
    return MovableClock(START)


@pytest.fixture
def policy():
    return "ledger@1"


def _iso(ctx) -> str:
    return ctx.clock.now().isoformat()


def _snapshot(ctx, location: str, counts: dict[str, int]) -> None:
    items = [{"sku": sku, "on_hand": n} for sku, n in counts.items()]
    body = {"location": location, "as_of": _iso(ctx), "items": items}
    pushes.push_snapshot(ctx, ADMIN, body, items, force=True)


def _adjust(ctx, location: str, sku: str, units: int) -> None:
    items = [{"location": location, "sku": sku, "adjust": units}]
    pushes.push_deltas(ctx, ADMIN, {"items": items}, items)


def _order(ctx, sku: str, quantity: int, holds: list[str] | None = None) -> dict:
    body = {"channel": "web", "ship_to": {"lat": 39.1, "lon": -84.5},
            "lines": [{"sku": sku, "quantity": quantity}], "reservations": holds or [],
            "on_short": "reject"}
    return placing.place(ctx, ADMIN, body, None)


def _positions(ctx) -> dict[tuple[str, str], tuple[int, int, int]]:
    sp = StockPosition.__table__
    with ctx.sessions() as session:
        rows = session.execute(select(sp.c.location_id, sp.c.sku, sp.c.on_hand,
                                      sp.c.allocated, sp.c.reserved))
        return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows if any(r[2:])}


def _as_of(ctx, at: datetime, skus=None) -> dict[tuple[str, str], tuple[int, int, int]]:
    with ctx.reading() as uow:
        return {(p.location_id, p.sku): (p.on_hand, p.allocated, p.reserved)
                for p in uow.journal.as_of(at, skus)}


def _journal(ctx, since_id: int = 0) -> list[InventoryJournalEntry]:
    with ctx.sessions() as session:
        return list(session.scalars(select(InventoryJournalEntry).where(
            InventoryJournalEntry.id > since_id).order_by(InventoryJournalEntry.id)))


def _last_id(ctx) -> int:
    with ctx.reading() as uow:
        return uow.journal.last_id()


def test_a_journey_through_every_stock_writer_names_each_cause_and_no_change_is_unknown(
        small_network):
    ctx, clock = small_network, small_network.clock
    _snapshot(ctx, "DC-1", {"A": 10, "B": 4})
    _snapshot(ctx, "ST-1", {"A": 6})
    clock.advance(60)
    _adjust(ctx, "DC-1", "B", 3)
    hold = reservations.create(ctx, ADMIN, {"channel": "web", "sku": "A", "quantity": 2,
                                            "location": "DC-1"})["id"]
    placed = _order(ctx, "A", 2, [hold])
    cancelling.cancel(ctx, ADMIN, placed["id"], {"reason": "customer"})
    shipped = _order(ctx, "B", 1)
    fulfilment.report(ctx, ADMIN, shipped["fulfilments"][0]["id"], {"type": "shipped"})
    rejected = _order(ctx, "A", 1)
    rejecting.reject(ctx, ADMIN, rejected["fulfilments"][0]["id"],
                     {"type": "rejected", "reason": "damaged"})
    transfer = creating.create(ctx, ADMIN, {"from": "DC-1", "to": "ST-2",
                                            "lines": [{"sku": "A", "quantity": 2}]}, None)
    events.report(ctx, ADMIN, transfer["id"], {"type": "shipped"})
    events.report(ctx, ADMIN, transfer["id"], {"type": "received",
                                               "lines": [{"sku": "A", "quantity": 2}]})
    expiring = reservations.create(ctx, ADMIN, {"channel": "web", "sku": "B", "quantity": 1,
                                                "ttl_seconds": 60})["id"]
    clock.advance(120)
    assert reservations.expire(ctx) == 1

    rows = _journal(ctx)
    causes = [r.cause for r in rows]
    assert "unknown" not in causes
    assert set(causes) == set(CAUSES) - {"return"}
    by_cause = {cause: [r for r in rows if r.cause == cause] for cause in set(causes)}
    assert {r.refs["order"] for r in by_cause["cancel"]} == {placed["id"]}
    assert {r.refs["order"] for r in by_cause["shipment"]} == {shipped["id"]}
    assert {r.refs["fulfilment"] for r in by_cause["rejection"]} == {
        rejected["fulfilments"][0]["id"]}
    assert {r.refs["transfer"] for r in by_cause["transfer"]} == {transfer["id"]}
    assert {r.refs["event"] for r in by_cause["transfer"]} == {"created", "shipped",
                                                               "received"}
    assert any(r.refs.get("reservation") == hold for r in by_cause["hold"])
    assert any(r.refs.get("reservations") == [expiring] for r in by_cause["hold"])
    placing_rows = [r for r in by_cause["order"] if r.refs["order"] == placed["id"]]
    assert placing_rows and all(r.refs["reservations"] == [hold] for r in placing_rows)
    # the order consumed its hold (reserved down) and allocated the units (up), at DC-1
    assert {r.location_id for r in placing_rows} == {"DC-1"}
    assert sum(r.reserved_before - r.reserved_after for r in placing_rows) == 2
    assert sum(r.allocated_after - r.allocated_before for r in placing_rows) == 2
    assert all(r.refs == {"feed": "push:snapshot:DC-1"} for r in by_cause["snapshot"]
               if r.location_id == "DC-1")
    assert [r.refs["feed"] for r in by_cause["delta"]] == ["push:deltas"]
    # each row's before is the previous row's after, for every position
    last: dict[tuple[str, str], tuple[int, int, int]] = {}
    for r in rows:
        key = (r.location_id, r.sku)
        before = (r.on_hand_before, r.allocated_before, r.reserved_before)
        assert before == last.get(key, (0, 0, 0)), (r.id, r.cause)
        last[key] = (r.on_hand_after, r.allocated_after, r.reserved_after)
    assert {k: v for k, v in last.items() if any(v)} == _positions(ctx)


def test_a_refused_or_rolled_back_change_leaves_no_journal_row(small_network):
    ctx = small_network
    _snapshot(ctx, "DC-1", {"A": 3})
    first = _last_id(ctx)
    with pytest.raises(InsufficientStock):
        _order(ctx, "A", 50)
    row = StockRow(1, "DC-1", "A", START, None, 5)
    with pytest.raises(RuntimeError):
        with ctx.transaction() as uow:
            uow.journal.because("delta", feed="test")
            deltas.apply_deltas(ctx, uow, [row], [], 1)
            assert uow.journal.last_id() > first  # written in the transaction, then undone
            raise RuntimeError("the unit of work fails after its change")
    assert _last_id(ctx) == first
    assert _positions(ctx) == {("DC-1", "A"): (3, 0, 0)}


def test_a_cause_lasts_one_transaction_and_sql_run_by_hand_is_journaled_unknown(
        small_network):
    ctx = small_network
    _snapshot(ctx, "DC-1", {"A": 3})
    first = _last_id(ctx)
    for _ in range(3):  # the pool hands back the same connections: none keeps the cause
        with ctx.sessions.begin() as session:
            session.execute(text("UPDATE stock_positions SET on_hand = on_hand + 1"
                                 " WHERE location_id = 'DC-1' AND sku = 'A'"))
    rows = _journal(ctx, first)
    assert [(r.cause, r.refs, r.on_hand_after) for r in rows] == [
        ("unknown", {}, 4), ("unknown", {}, 5), ("unknown", {}, 6)]


def test_an_update_that_moves_no_count_and_an_empty_new_position_write_nothing(small_network):
    ctx = small_network
    _snapshot(ctx, "DC-1", {"A": 3})
    first = _last_id(ctx)
    with ctx.transaction() as uow:
        uow.journal.because("delta")
        uow.positions.ensure([("ST-1", "A"), ("DC-1", "A")])
        uow.positions.mark_shipped([uow.positions.ids_for([("DC-1", "A")])[("DC-1", "A")]],
                                   START)
    assert _journal(ctx, first) == []


def test_an_unknown_cause_is_a_programming_error(small_network):
    with small_network.transaction() as uow, pytest.raises(ValueError, match="journal cause"):
        uow.journal.because("mistake")


def test_the_snapshot_journals_every_position_it_moves_and_the_past_is_reconstructed(
        small_network):
    ctx, clock = small_network, small_network.clock
    _snapshot(ctx, "DC-1", {"A": 10, "B": 4})
    before = clock.now()
    first = _positions(ctx)
    clock.advance(10)
    _snapshot(ctx, "DC-1", {"A": 7, "B": 4, "C": 2})
    rows = [(r.sku, r.on_hand_before, r.on_hand_after, r.cause) for r in _journal(ctx)]
    assert rows == [("A", 0, 10, "snapshot"), ("B", 0, 4, "snapshot"),
                    ("A", 10, 7, "snapshot"), ("C", 0, 2, "snapshot")]
    assert _as_of(ctx, before) == first
    assert [(p.location_id, p.sku, p.on_hand) for p in journal.positions_as_of(ctx, before)
            ] == [("DC-1", "A", 10), ("DC-1", "B", 4)]  # what replay starts from
    assert _as_of(ctx, before - timedelta(seconds=1)) == {}
    assert _as_of(ctx, clock.now(), {"A"}) == {("DC-1", "A"): (7, 0, 0)}


STEP = st.one_of(
    st.tuples(st.just("snapshot"), st.sampled_from(["DC-1", "ST-1"]), st.just(""),
              st.lists(st.integers(0, 9), min_size=2, max_size=2)),
    st.tuples(st.just("adjust"), st.sampled_from(["DC-1", "ST-1"]), st.sampled_from(SKUS),
              st.integers(-4, 6)),
    st.tuples(st.just("hold"), st.just(""), st.sampled_from(SKUS), st.integers(1, 3)),
    st.tuples(st.just("release"), st.just(""), st.just(""), st.integers(0, 9)),
    st.tuples(st.just("order"), st.just(""), st.sampled_from(SKUS), st.integers(1, 4)),
    st.tuples(st.just("cancel"), st.just(""), st.just(""), st.integers(0, 9)),
    st.tuples(st.just("ship"), st.just(""), st.just(""), st.integers(0, 9)),
)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(STEP, min_size=1, max_size=9))
def test_the_reconstruction_equals_the_positions_at_every_step_of_a_generated_history(
        small_network, steps):
    ctx, clock = small_network, small_network.clock
    seen: list[tuple[datetime, dict]] = []
    holds: list[str] = []
    orders: list[dict] = []
    for step in steps:
        clock.advance(1)
        try:
            _apply(ctx, step, holds, orders)
        except OmsError:
            pass  # refused: it changed nothing, and the journal says so
        seen.append((clock.now(), _positions(ctx)))
        for at, positions in seen:
            assert _as_of(ctx, at) == positions, (at, steps)
            assert _as_of(ctx, at, {"A"}) == {k: v for k, v in positions.items()
                                              if k[1] == "A"}
    assert "unknown" not in {r.cause for r in _journal(ctx)}


def _apply(ctx, step: tuple, holds: list[str], orders: list[dict]) -> None:
    kind, location, sku, n = step
    if kind == "snapshot":
        _snapshot(ctx, location, dict(zip(SKUS, n, strict=True)))
    elif kind == "adjust":
        _adjust(ctx, location, sku, n)
    elif kind == "hold":
        holds.append(reservations.create(ctx, ADMIN, {"channel": "web", "sku": sku,
                                                      "quantity": n})["id"])
    elif kind == "order":
        orders.append(_order(ctx, sku, n))
    elif kind == "release" and holds:
        reservations.release(ctx, ADMIN, holds.pop(n % len(holds)))
    elif kind == "cancel" and orders:
        cancelling.cancel(ctx, ADMIN, orders.pop(n % len(orders))["id"], {})
    elif kind == "ship" and orders:
        order = orders.pop(n % len(orders))
        for shipment in order["fulfilments"]:
            fulfilment.report(ctx, ADMIN, shipment["id"], {"type": "shipped"})


def test_the_positions_table_carries_the_journal_triggers_after_every_migration(db_engine):
    """A later migration that rebuilds stock_positions (SQLite batch mode) must recreate them."""
    with db_engine.connect() as conn:
        if db_engine.dialect.name == "postgresql":
            found = conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'stock_positions'::regclass"
                " AND tgname LIKE 'inventory_journal%' AND tgenabled <> 'D'")).scalars()
        else:
            found = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name = 'stock_positions'")).scalars()
        assert sorted(found) == ["inventory_journal_inserts", "inventory_journal_updates"]
