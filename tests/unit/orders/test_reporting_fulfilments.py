import copy
from datetime import timedelta
from decimal import Decimal

import pytest

from service.domain.orders import DomainEvent, Order, Settlement
from service.errors import Conflict, NotFound, ValidationFailed
from tests.unit.orders.builders import LATER, NOW, PLACED, event_types, line, placed, shipment


def _order() -> Order:
    """A (3 @ 10.00): 2 on f-1 at dc-1, 1 on f-2 at store-2; B (2 @ 5.50): on f-1."""
    return placed([line(1, "A", 3), line(2, "B", 2, "5.50")],
                  [shipment("f-1", "dc-1", ("A", 2), ("B", 2)),
                   shipment("f-2", "store-2", ("A", 1))])


@pytest.mark.parametrize("step", ["accepted", "picked", "packed"])
def test_each_step_before_shipping_moves_the_fulfilment_and_is_announced(step):
    order = _order()
    assert order.report("f-1", step, at=LATER, now=NOW) == {}
    f_1 = order.fulfilment("f-1")
    assert (f_1.status, f_1.updated_at, f_1.shipped_at) == (step, NOW, None)
    assert order.events[0] == DomainEvent("fulfilment", "f-1", f"fulfilment.{step}", {
        "order_id": "o-1", "fulfilment_id": "f-1", "channel": "web", "location": "dc-1",
        "status": step, "at": LATER.isoformat(), "tracking": None, "reason": None,
        "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 2}]}, NOW)
    assert order.settlements == []


def test_a_location_may_skip_straight_to_shipped():
    order = _order()
    order.report("f-2", "accepted", at=LATER, now=NOW)
    order.report("f-2", "shipped", at=LATER, now=NOW)
    assert order.fulfilment("f-2").status == "shipped"


def test_shipping_ships_every_open_unit_and_returns_them_by_position():
    order = _order()
    units = order.report("f-1", "shipped", at=LATER, now=NOW, tracking="1Z999")
    f_1 = order.fulfilment("f-1")
    assert [(row.shipped, row.open) for row in f_1.lines] == [(2, 0), (2, 0)]
    assert (f_1.shipped_at, f_1.updated_at, f_1.tracking) == (LATER, NOW, "1Z999")
    assert units == {("dc-1", "A"): 2, ("dc-1", "B"): 2}
    assert order.events[0] == DomainEvent("fulfilment", "f-1", "fulfilment.shipped", {
        "order_id": "o-1", "fulfilment_id": "f-1", "channel": "web", "location": "dc-1",
        "status": "shipped", "at": LATER.isoformat(), "tracking": "1Z999", "reason": None,
        "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 2}]}, NOW)


def test_shipping_settles_each_line_shipped_at_its_unit_price_and_location_when_reported():
    order = _order()
    order.report("f-1", "shipped", at=LATER, now=NOW)
    assert order.settlements == [
        Settlement("shipped", 1, "A", 2, Decimal("20.00"), NOW, "dc-1"),
        Settlement("shipped", 2, "B", 2, Decimal("11.00"), NOW, "dc-1"),
    ]


def test_shipping_leaves_cancelled_units_behind():
    order = _order()
    order.cancel([{"sku": "A", "quantity": 2}], None, LATER)  # 1 off f-2 (latest), 1 off f-1
    order.cancel([{"sku": "B"}], None, LATER)
    order.events.clear()
    order.settlements.clear()
    units = order.report("f-1", "shipped", at=NOW, now=NOW)
    assert [(row.sku, row.shipped, row.cancelled) for row in order.fulfilment("f-1").lines] == [
        ("A", 1, 1), ("B", 0, 2)]
    assert order.events[0].payload["lines"] == [{"sku": "A", "quantity": 1}]
    assert [(s.sku, s.quantity) for s in order.settlements] == [("A", 1)]
    # a line with nothing left still names its position (with 0), as the shelf update did
    assert units == {("dc-1", "A"): 1, ("dc-1", "B"): 0}


def test_a_fulfilment_with_nothing_left_to_ship_cannot_ship():
    order = _order()
    for row in order.fulfilment("f-2").lines:
        row.rejected = row.quantity
    before = copy.deepcopy(order)
    with pytest.raises(Conflict, match="^Fulfilment f-2 has nothing left to ship: every line is "
                                       "cancelled or rejected.$"):
        order.report("f-2", "shipped", at=NOW, now=NOW)
    assert order == before


def test_delivered_comes_after_shipped_and_ships_nothing_more():
    order = _order()
    order.report("f-2", "shipped", at=LATER, now=LATER)
    order.settlements.clear()
    assert order.report("f-2", "delivered", at=NOW, now=NOW) == {}
    f_2 = order.fulfilment("f-2")
    assert (f_2.status, f_2.shipped_at, f_2.lines[0].shipped) == ("delivered", LATER, 1)
    assert order.settlements == []


def test_a_fulfilment_is_delivered_only_after_it_shipped():
    order = _order()
    order.report("f-1", "packed", at=LATER, now=LATER)
    with pytest.raises(Conflict, match="^Fulfilment f-1: the fulfilment is packed; it must ship "
                                       "before it is delivered.$"):
        order.report("f-1", "delivered", at=NOW, now=NOW)
    assert order.fulfilment("f-1").status == "packed"


def test_a_fulfilment_never_goes_back():
    order = _order()
    order.report("f-1", "packed", at=LATER, now=LATER)
    with pytest.raises(Conflict, match="^Fulfilment f-1: the fulfilment is already packed; it "
                                       "cannot go back to accepted.$"):
        order.report("f-1", "accepted", at=NOW, now=NOW)
    assert order.fulfilment("f-1").status == "packed"


def test_a_cancelled_fulfilment_does_not_move():
    order = _order()
    order.cancel(None, None, LATER)
    with pytest.raises(Conflict, match="nothing moves it any more"):
        order.report("f-1", "accepted", at=NOW, now=NOW)


def test_reporting_the_current_status_again_changes_nothing():
    order = _order()
    order.report("f-1", "shipped", at=LATER, now=LATER, tracking="1Z1")
    order.events.clear()
    order.settlements.clear()
    before = copy.deepcopy(order)
    assert order.report("f-1", "shipped", at=NOW, now=NOW, tracking="1Z2", reason="again") == {}
    assert order == before


def test_tracking_and_reason_are_kept_when_given_and_not_erased_when_not():
    order = _order()
    order.report("f-1", "accepted", at=LATER, now=LATER, tracking="1Z1", reason="rush")
    order.report("f-1", "picked", at=NOW, now=NOW)
    f_1 = order.fulfilment("f-1")
    assert (f_1.tracking, f_1.reason) == ("1Z1", "rush")
    accepted, picked = (e.payload for e in order.events if e.aggregate_type == "fulfilment")
    assert (accepted["reason"], picked["reason"]) == ("rush", None)
    assert (accepted["tracking"], picked["tracking"]) == ("1Z1", "1Z1")


def test_an_unknown_fulfilment_is_not_found():
    with pytest.raises(NotFound, match="^No fulfilment 'f-9'.$"):
        _order().report("f-9", "accepted", at=NOW, now=NOW)


def test_the_order_hears_of_a_report_only_when_its_status_changes():
    order = _order()
    order.report("f-1", "accepted", at=LATER, now=LATER)
    order.report("f-2", "accepted", at=LATER, now=LATER)  # still in progress: no order event
    order.report("f-1", "shipped", at=NOW, now=NOW)
    order.report("f-2", "shipped", at=NOW, now=NOW)
    assert event_types(order) == [
        "fulfilment.accepted", "order.status_changed", "fulfilment.accepted",
        "fulfilment.shipped", "order.status_changed", "fulfilment.shipped",
        "order.status_changed"]
    assert [(e.payload["previous_status"], e.payload["status"]) for e in order.events
            if e.type == "order.status_changed"] == [
        ("created", "in_progress"), ("in_progress", "partially_shipped"),
        ("partially_shipped", "shipped")]
    assert order.events[-1] == DomainEvent("order", "o-1", "order.status_changed", {
        "order_id": "o-1", "channel": "web", "status": "shipped",
        "previous_status": "partially_shipped"}, NOW)


def test_the_order_is_stamped_updated_only_when_a_report_changes_its_status():
    order = _order()
    order.report("f-1", "accepted", at=LATER, now=LATER)
    assert order.updated_at == LATER
    order.report("f-2", "accepted", at=NOW, now=NOW)
    assert order.updated_at == LATER


def test_a_reported_time_before_the_fulfilment_existed_is_refused():
    fulfilment = _order().fulfilment("f-1")
    sent = "2026-11-27T08:00:00Z"
    with pytest.raises(ValidationFailed, match="^at is before the fulfilment existed.$") as exc:
        fulfilment.check_reported_at(PLACED - timedelta(hours=1), sent)
    assert exc.value.problems == [{"pointer": "/at", "message": (
        "2026-11-27T08:00:00Z is before the fulfilment was created (2026-11-27T09:00:00+00:00)")}]


def test_a_time_the_reporter_did_not_send_is_not_checked_and_a_later_one_passes():
    fulfilment = _order().fulfilment("f-1")
    fulfilment.check_reported_at(PLACED - timedelta(hours=1), None)
    fulfilment.check_reported_at(PLACED, PLACED.isoformat())


def test_delivery_is_dated_when_it_happened_as_reported():
    order = _order()
    order.report("f-2", "shipped", at=PLACED, now=LATER)
    order.report("f-2", "delivered", at=LATER, now=NOW)
    f_2 = order.fulfilment("f-2")
    assert (f_2.status, f_2.shipped_at, f_2.delivered_at, f_2.updated_at) == (
        "delivered", PLACED, LATER, NOW)
    assert order.fulfilment("f-1").delivered_at is None
