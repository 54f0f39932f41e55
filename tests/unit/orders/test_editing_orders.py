"""An order's edits, without a database: what may move, and what moving it does."""

import pytest

from service.domain.orders import DomainEvent
from service.domain.orders.editing import edit_targets, grow, movable, take_back
from service.errors import Conflict, ValidationFailed
from tests.unit.orders.builders import NOW, event_types, line, payload_of, placed, shipment


def _order():
    """A: 5 (2 on f-1 at store-1, picked; 2 on f-2 at dc-1, created; 1 waiting)."""
    order = placed([line(1, "A", 5)], [shipment("f-1", "store-1", ("A", 2)),
                                       shipment("f-2", "dc-1", ("A", 2))], {"A": 1})
    order.fulfilment("f-1").status = "picked"
    return order


def test_backordered_units_and_units_on_created_or_accepted_fulfilments_may_move():
    order = _order()
    assert movable(order, order.lines[0]) == 3
    order.fulfilment("f-2").status = "accepted"
    assert movable(order, order.lines[0]) == 3


def test_taking_units_away_takes_the_backordered_first_then_the_latest_fulfilment():
    order = _order()
    targets = edit_targets(order, [{"sku": "A", "quantity": 3}])

    freed = take_back(order, targets.taken, NOW)

    assert targets.taken == {1: 2} and freed == {("dc-1", "A"): 1}
    assert (order.lines[0].backordered, order.lines[0].cancelled) == (0, 2)
    assert order.fulfilment("f-2").lines[0].open == 1
    assert [s.quantity for s in order.settlements] == [2]


def test_a_fulfilment_left_with_nothing_open_is_cancelled_as_edited():
    order = _order()
    take_back(order, edit_targets(order, [{"sku": "A", "quantity": 2}]).taken, NOW)

    assert order.fulfilment("f-2").status == "cancelled"
    assert order.fulfilment("f-2").reason == "edited"
    assert order.fulfilment("f-1").status == "picked"


def test_less_than_is_picked_is_a_conflict_naming_the_line():
    with pytest.raises(Conflict) as refused:
        edit_targets(_order(), [{"sku": "A", "quantity": 1}])

    assert refused.value.problems[0]["pointer"] == "/lines/0/quantity"
    assert refused.value.problems[0]["message"] == "2 units of A already picked or shipped"


def test_a_new_sku_adds_a_line_and_more_units_grow_the_existing_one():
    order = _order()
    targets = edit_targets(order, [{"sku": "A", "quantity": 7},
                                   {"sku": "B", "quantity": 2, "unit_price": 3}])

    grow(order, targets, [shipment("f-3", "dc-1", ("A", 2), ("B", 1))], {"B": 1}, NOW)

    assert [(ln.sku, ln.quantity, ln.backordered) for ln in order.lines] == [
        ("A", 7, 1), ("B", 2, 1)]
    assert order.lines[1].line_no == 2
    assert [row.line_no for row in order.fulfilment("f-3").lines] == [1, 2]


def test_a_sku_listed_twice_or_zero_of_a_new_one_is_bad_input():
    with pytest.raises(ValidationFailed) as bad:
        edit_targets(_order(), [{"sku": "A", "quantity": 5}, {"sku": "A", "quantity": 4},
                                {"sku": "Z", "quantity": 0}])

    assert [p["pointer"] for p in bad.value.problems] == ["/lines/1/sku", "/lines/2/quantity"]


def test_an_edit_that_adds_units_announces_the_request_the_allocation_and_what_waits():
    order = _order()
    targets = edit_targets(order, [{"sku": "A", "quantity": 7},
                                   {"sku": "B", "quantity": 2, "unit_price": 3}])

    grow(order, targets, [shipment("f-3", "dc-1", ("A", 2), ("B", 1))], {"B": 1}, NOW)

    assert event_types(order) == ["fulfilment.requested", "order.allocated",
                                  "order.backordered"]
    asked = payload_of(order, "fulfilment.requested")
    assert (asked["fulfilment_id"], asked["location"], asked["cause"]) == ("f-3", "dc-1",
                                                                           "edited")
    assert payload_of(order, "order.allocated")["lines"] == [{"sku": "A", "quantity": 2},
                                                             {"sku": "B", "quantity": 1}]
    waiting = payload_of(order, "order.backordered")
    assert waiting["lines"] == [{"sku": "B", "quantity": 1}]
    assert waiting["backordered"] == [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}]


def test_a_fulfilment_an_edit_empties_tells_its_location_which_units_went():
    order = _order()
    take_back(order, edit_targets(order, [{"sku": "A", "quantity": 2}]).taken, NOW)

    assert order.events == [DomainEvent("fulfilment", "f-2", "fulfilment.cancelled", {
        "order_id": "o-1", "fulfilment_id": "f-2", "channel": "web", "location": "dc-1",
        "status": "cancelled", "reason": "edited", "lines": [{"sku": "A", "quantity": 2}]}, NOW)]
