"""The order use cases (cancelling, reading, reporting on fulfilments) on an in-memory store.

One web order: line 1 is 4 x A at 10.00, line 2 is 2 x B at 5.50 (B is on clearance).
f-2 ships A x2 and B x2 from dc-1 (placed first); f-1 ships A x2 from store-1 (added later,
so it is the latest fulfilment although its id sorts first). The ledger ruleset's channels:
web holds 2 back at stores; marketplace holds back 20% (rounded up), 3 of clearance items;
store_pickup sells only from pickup counters, holding 1 back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from service.clock import MovableClock
from service.domain.orders import Order, Settlement
from service.domain.roles import Role
from service.errors import Conflict, NotFound, ValidationFailed
from service.services.orders import cancelling, fulfilment, reading
from service.store.position_rows import PositionRow
from tests.unit.orders.builders import NOW, PLACED, line, loaded, resourced, shipment
from tests.unit.orders.fakes import (
    FakeAts,
    FakeContext,
    FakeOrders,
    FakePositions,
    FakeUnitOfWork,
    catalog,
    ledger_ruleset,
    location,
    product,
)

WEB, ADMIN = Role.parse("channel:web"), Role.parse("admin")
DC, STORE = Role.parse("location:dc-1"), Role.parse("location:store-1")
SHIP_AT = PLACED + timedelta(hours=2, minutes=30)
CATALOG = catalog([product("A"), product("B", tags=["clearance"])],
                  [location("dc-1", "dc"), location("store-1", "store", can_pickup=True)])
# id: (location, sku, on_hand, allocated); available = on_hand - allocated
POSITIONS = {1: ("dc-1", "A", 10, 2), 2: ("dc-1", "B", 4, 2), 3: ("store-1", "A", 6, 2),
             4: ("store-1", "B", 3, 0)}
# what each channel may sell of the positions above, summed over locations
ATS = {("web", "A"): 8 + 2, ("web", "B"): 2 + 1,
       ("marketplace", "A"): 6 + 3, ("marketplace", "B"): 0 + 0,
       ("store_pickup", "A"): 3, ("store_pickup", "B"): 2}


def _order() -> Order:
    order = loaded(Order.place(
        id="o-1", channel="web", lines=[line(1, "A", 4), line(2, "B", 2, "5.50")],
        shipments=[shipment("f-2", "dc-1", ("A", 2), ("B", 2))], backordered={},
        at=PLACED, ruleset="ledger@1"))
    resourced(order, "f-1", "store-1", ("A", 2))
    return order


@pytest.fixture
def uow() -> Iterator[FakeUnitOfWork]:
    rows = [PositionRow(pid, loc, sku, on_hand, allocated, 0, PLACED)
            for pid, (loc, sku, on_hand, allocated) in POSITIONS.items()]
    fake = FakeUnitOfWork(FakeOrders([_order()]), FakePositions(rows),
                          FakeAts(ATS, ledger_ruleset().ref), CATALOG, MovableClock(NOW))
    yield fake
    assert fake.ats.recomputed == [], "the kept ATS was recomputed instead of moved"


@pytest.fixture
def ctx(uow: FakeUnitOfWork) -> FakeContext:
    return FakeContext(uow)


def _written(uow: FakeUnitOfWork) -> tuple[Any, ...]:
    """Everything a use case could have written."""
    return uow.orders.snapshot(), uow.positions.snapshot(), uow.ats.snapshot()


def _figures(uow: FakeUnitOfWork, field: str) -> dict[int, Any]:
    return {pid: getattr(row, field) for pid, row in uow.positions.rows.items()}


def _event_types(uow: FakeUnitOfWork) -> list[tuple[str, str]]:
    return [(e.aggregate_id, e.type) for e in uow.orders.saved_events]


def test_cancelling_a_whole_order_gives_every_unit_back_and_raises_each_channels_ats(ctx, uow):
    cancelling.cancel(ctx, WEB, "o-1", {"reason": "customer asked"})
    assert _figures(uow, "allocated") == {1: 0, 2: 0, 3: 0, 4: 0}
    assert _figures(uow, "on_hand") == {1: 10, 2: 4, 3: 6, 4: 3}
    # dc-1 A 8 -> 10, dc-1 B 2 -> 4, store-1 A 4 -> 6 available
    assert uow.ats.units == {("web", "A"): 10 + 2 + 2, ("web", "B"): 3 + 2,
                             ("marketplace", "A"): 9 + 2 + 1, ("marketplace", "B"): 0 + 1,
                             ("store_pickup", "A"): 3 + 2, ("store_pickup", "B"): 2}
    assert uow.stock_changed == {"A", "B"}  # what the running variants' figures recompute
    assert uow.committed


def test_cancelling_a_whole_order_saves_it_cancelled_with_its_events_and_settlements(ctx, uow):
    view = cancelling.cancel(ctx, WEB, "o-1", {"reason": "customer asked"})
    stored = uow.orders.orders["o-1"]
    assert view["status"] == stored.status == "cancelled"
    assert [(f.id, f.status) for f in stored.fulfilments] == [("f-2", "cancelled"),
                                                             ("f-1", "cancelled")]
    assert [ln.cancelled for ln in stored.lines] == [4, 2]
    assert _event_types(uow) == [("f-2", "fulfilment.cancelled"),
                                 ("f-1", "fulfilment.cancelled"), ("o-1", "order.cancelled"),
                                 ("o-1", "order.status_changed")]
    assert uow.orders.saved_settlements == [
        Settlement("cancelled", 1, "A", 4, Decimal("40.00"), NOW),
        Settlement("cancelled", 2, "B", 2, Decimal("11.00"), NOW)]
    assert stored.events == [] and stored.settlements == []
    assert uow.journal.causes == [("cancel", {"order": "o-1", "reason": "customer asked"})]


def test_cancelling_part_of_a_line_releases_only_those_units_from_the_latest_fulfilment(
        ctx, uow):
    cancelling.cancel(ctx, WEB, "o-1", {"lines": [{"sku": "A", "quantity": 2}]})
    assert _figures(uow, "allocated") == {1: 2, 2: 2, 3: 0, 4: 0}
    # store-1 A: 4 -> 6 available
    assert uow.ats.units == {**ATS, ("web", "A"): 10 + 2, ("marketplace", "A"): 9 + 1,
                             ("store_pickup", "A"): 3 + 2}
    stored = uow.orders.orders["o-1"]
    assert [(f.id, f.status) for f in stored.fulfilments] == [("f-2", "created"),
                                                             ("f-1", "cancelled")]
    assert _event_types(uow) == [("f-1", "fulfilment.cancelled"),
                                 ("o-1", "order.lines_cancelled")]
    assert uow.orders.saved_settlements == [Settlement("cancelled", 1, "A", 2,
                                                       Decimal("20.00"), NOW)]


def test_a_channel_key_cannot_read_or_cancel_another_channels_order(ctx, uow):
    before = _written(uow)
    marketplace = Role.parse("channel:marketplace")
    with pytest.raises(NotFound, match="No order 'o-1'"):
        reading.read(ctx, marketplace, "o-1")
    with pytest.raises(NotFound, match="No order 'o-1'"):
        cancelling.cancel(ctx, marketplace, "o-1", {})
    assert _written(uow) == before
    assert uow.commits == 0 and uow.orders.saved_events == []


def test_the_orders_channel_and_an_admin_may_read_it_and_an_admin_may_cancel_it(ctx, uow):
    assert reading.read(ctx, WEB, "o-1")["id"] == "o-1"
    assert reading.read(ctx, ADMIN, "o-1")["status"] == "created"
    assert cancelling.cancel(ctx, ADMIN, "o-1", {})["status"] == "cancelled"
    assert uow.orders.orders["o-1"].status == "cancelled"


def test_an_unknown_order_is_not_found(ctx, uow):
    with pytest.raises(NotFound, match="No order 'o-9'"):
        cancelling.cancel(ctx, ADMIN, "o-9", {})
    assert uow.commits == 0


def test_cancelling_more_than_is_left_is_refused_with_the_lines_pointer_and_writes_nothing(
        ctx, uow):
    before = _written(uow)
    body = {"lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 3}]}
    with pytest.raises(ValidationFailed) as refused:
        cancelling.cancel(ctx, WEB, "o-1", body)
    assert refused.value.problems == [
        {"pointer": "/lines/1/quantity", "message": "only 2 of B can still be cancelled"}]
    assert _written(uow) == before
    assert not uow.committed


def test_cancelling_a_cancelled_order_again_is_a_conflict_and_writes_nothing(ctx, uow):
    cancelling.cancel(ctx, WEB, "o-1", {})
    before = _written(uow)
    with pytest.raises(Conflict, match="Nothing left to cancel"):
        cancelling.cancel(ctx, WEB, "o-1", {})
    assert _written(uow) == before
    assert uow.commits == 1


def test_shipping_takes_the_open_units_off_the_shelf_and_allocation_as_of_the_event(ctx, uow):
    fulfilment.report(ctx, DC, "f-2", {"type": "shipped", "at": SHIP_AT.isoformat()})
    assert _figures(uow, "on_hand") == {1: 8, 2: 2, 3: 6, 4: 3}
    assert _figures(uow, "allocated") == {1: 0, 2: 0, 3: 2, 4: 0}
    assert _figures(uow, "shipped_at") == {1: SHIP_AT, 2: SHIP_AT, 3: None, 4: None}
    assert uow.ats.units == ATS  # the shipped units were allocated: no ATS moved
    assert uow.committed


def test_shipping_saves_the_shipped_fulfilment_with_a_settlement_record_per_line(ctx, uow):
    view = fulfilment.report(ctx, DC, "f-2", {"type": "shipped", "at": SHIP_AT.isoformat(),
                                              "tracking": "TRK-1"})
    assert (view["status"], view["order_status"]) == ("shipped", "partially_shipped")
    shipped = uow.orders.orders["o-1"].fulfilment("f-2")
    assert shipped is not None
    assert (shipped.status, shipped.shipped_at, shipped.updated_at, shipped.tracking) == (
        "shipped", SHIP_AT, NOW, "TRK-1")
    assert [row.shipped for row in shipped.lines] == [2, 2]
    assert _event_types(uow) == [("f-2", "fulfilment.shipped"),
                                 ("o-1", "order.status_changed")]
    assert uow.orders.saved_settlements == [
        Settlement("shipped", 1, "A", 2, Decimal("20.00"), NOW, "dc-1"),
        Settlement("shipped", 2, "B", 2, Decimal("11.00"), NOW, "dc-1")]


def test_reporting_an_event_the_fulfilments_status_does_not_allow_is_a_conflict(ctx, uow):
    fulfilment.report(ctx, DC, "f-2", {"type": "shipped"})
    before = _written(uow)
    with pytest.raises(Conflict, match="already shipped"):
        fulfilment.report(ctx, DC, "f-2", {"type": "packed"})
    with pytest.raises(Conflict, match="must ship before"):
        fulfilment.report(ctx, STORE, "f-1", {"type": "delivered"})
    assert _written(uow) == before
    assert uow.commits == 1


def test_a_repeated_event_changes_nothing_and_saves_no_event(ctx, uow):
    body = {"type": "shipped", "at": SHIP_AT.isoformat()}
    fulfilment.report(ctx, DC, "f-2", body)
    before = _written(uow)
    assert fulfilment.report(ctx, DC, "f-2", body)["status"] == "shipped"
    assert _written(uow) == before
    assert len(uow.orders.saved_events) == 2 and len(uow.orders.saved_settlements) == 2


def test_a_location_key_may_report_only_on_its_own_locations_fulfilments(ctx, uow):
    before = _written(uow)
    with pytest.raises(NotFound, match="No fulfilment 'f-2'"):
        fulfilment.report(ctx, STORE, "f-2", {"type": "shipped"})
    with pytest.raises(NotFound, match="No fulfilment 'f-9'"):
        fulfilment.report(ctx, ADMIN, "f-9", {"type": "shipped"})
    assert _written(uow) == before
    assert fulfilment.report(ctx, STORE, "f-1", {"type": "accepted"})["status"] == "accepted"
    assert uow.orders.orders["o-1"].status == "in_progress"


def test_an_event_time_beyond_the_clock_skew_is_refused_until_the_clock_catches_up(ctx, uow):
    body = {"type": "accepted", "at": (NOW + timedelta(minutes=10)).isoformat()}
    before = _written(uow)
    with pytest.raises(ValidationFailed) as refused:
        fulfilment.report(ctx, DC, "f-2", body)
    assert [p["pointer"] for p in refused.value.problems] == ["/at"]
    assert _written(uow) == before
    ctx.clock.advance(5 * 60)  # the time sent is now exactly the skew ahead
    assert fulfilment.report(ctx, DC, "f-2", body)["status"] == "accepted"


def test_the_fake_unit_of_work_keeps_nothing_of_a_block_that_raises(ctx, uow):
    before = _written(uow)
    with pytest.raises(RuntimeError), ctx.transaction() as tx:
        order = tx.orders.get("o-1", lock=True)
        assert order is not None
        order.cancel(None, None, NOW)
        tx.orders.save(order)
        tx.positions.mark_shipped([1], NOW)
        tx.ats.add([("web", "A")], {("web", "A"): -5})
        raise RuntimeError("the block fails")
    assert _written(uow) == before
    assert not uow.committed


def test_the_fake_keeps_nothing_a_reading_wrote(ctx, uow):
    before = _written(uow)
    with ctx.reading() as tx:
        tx.positions.mark_shipped([1, 2], NOW)
    assert _written(uow) == before
    assert not uow.committed
