from decimal import Decimal

import pytest

from service.domain.orders import DomainEvent, Order
from tests.unit.orders.builders import PLACED, line, place, shipment


def _order() -> Order:
    return place([line(1, "A", 3), line(2, "B", 2, "5.50"), line(3, "C", 1)],
                 [shipment("f-b", "store-2", ("B", 2), ("A", 1)),
                  shipment("f-a", "dc-1", ("A", 2), cost=4)],
                 backordered={"C": 1})


def test_placing_lists_fulfilments_by_id_whatever_order_the_planner_gave():
    assert [f.id for f in _order().fulfilments] == ["f-a", "f-b"]


def test_each_fulfilment_line_names_the_order_line_of_its_sku():
    f_b = _order().fulfilment("f-b")
    assert [(row.line_no, row.sku, row.quantity) for row in f_b.lines] == [(2, "B", 2), (1, "A", 1)]


def test_units_the_plan_could_not_place_are_backordered_on_their_line():
    order = _order()
    assert [(ln.sku, ln.backordered, ln.cancelled) for ln in order.lines] == [
        ("A", 0, 0), ("B", 0, 0), ("C", 1, 0)]
    assert order.status == "partially_backordered"


def test_an_order_nothing_could_be_placed_for_is_backordered():
    order = place([line(1, "A", 2)], [], backordered={"A": 2})
    assert order.fulfilments == []
    assert order.status == "backordered"


def test_a_new_order_and_its_fulfilments_start_at_the_placing_time():
    order = _order()
    f_a = order.fulfilment("f-a")
    assert (order.created_at, order.updated_at) == (PLACED, PLACED)
    assert (f_a.status, f_a.created_at, f_a.updated_at) == ("created", PLACED, PLACED)
    assert (f_a.location_id, f_a.cost, f_a.factors) == ("dc-1", 4.0, {"distance_km": 12.0})
    assert isinstance(f_a.cost, float)


def test_placing_announces_the_order_its_requests_its_allocation_then_what_waits():
    head = {"order_id": "o-1", "channel": "web"}
    f_a = {**head, "fulfilment_id": "f-a", "location": "dc-1", "status": "created",
           "cause": "placed", "lines": [{"sku": "A", "quantity": 2}]}
    f_b = {**head, "fulfilment_id": "f-b", "location": "store-2", "status": "created",
           "cause": "placed", "lines": [{"sku": "B", "quantity": 2}, {"sku": "A", "quantity": 1}]}
    order = {**head, "status": "partially_backordered"}
    assert _order().events == [
        DomainEvent("order", "o-1", "order.placed", {
            **order, "ruleset": "default@3", "order_ref": None, "customer_id": None,
            "delivery_method": "ship", "lines": [{"sku": "A", "quantity": 3},
                                                 {"sku": "B", "quantity": 2},
                                                 {"sku": "C", "quantity": 1}]}, PLACED),
        DomainEvent("fulfilment", "f-a", "fulfilment.requested", f_a, PLACED),
        DomainEvent("fulfilment", "f-b", "fulfilment.requested", f_b, PLACED),
        DomainEvent("order", "o-1", "order.allocated", {
            **order, "cause": "placed",
            "lines": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 2}],
            "fulfilments": [{"fulfilment_id": "f-a", "location": "dc-1", "lines": f_a["lines"]},
                            {"fulfilment_id": "f-b", "location": "store-2",
                             "lines": f_b["lines"]}]}, PLACED),
        DomainEvent("order", "o-1", "order.backordered", {
            **order, "cause": "placed", "lines": [{"sku": "C", "quantity": 1}],
            "backordered": [{"sku": "C", "quantity": 1}]}, PLACED),
    ]


def test_an_order_placed_with_nothing_in_stock_is_placed_and_backordered_not_allocated():
    order = place([line(1, "A", 2)], [], backordered={"A": 2})
    assert [e.type for e in order.events] == ["order.placed", "order.backordered"]


def test_placing_settles_nothing():
    assert _order().settlements == []


def test_placing_keeps_what_the_request_and_the_plan_said():
    order = Order.place(id="o-9", channel="store", lines=[line(1, "A", 1, "2.25")],
                        shipments=[shipment("f-1", "s-7", ("A", 1))], backordered={},
                        at=PLACED, order_ref="R-1", customer_id="c-4",
                        delivery_method="pickup", pickup_location="s-7",
                        attributes={"customer_tier": "gold"}, ruleset="r@1",
                        plan={"total_cost": 1.5}, explanation={"ranked": []},
                        idempotency_key="k-1", request_hash="h")
    assert (order.order_ref, order.customer_id, order.delivery_method,
            order.pickup_location) == ("R-1", "c-4", "pickup", "s-7")
    assert (order.ship_to, order.attributes) == ({}, {"customer_tier": "gold"})
    assert (order.plan, order.explanation) == ({"total_cost": 1.5}, {"ranked": []})
    assert (order.idempotency_key, order.request_hash) == ("k-1", "h")
    assert order.lines[0].unit_price == Decimal("2.25") and order.lines[0].id is None


def test_a_shipment_of_a_sku_not_on_the_order_is_a_programming_error():
    with pytest.raises(ValueError, match="not on the order"):
        place([line(1, "A", 1)], [shipment("f-1", "dc-1", ("Z", 1))])


def test_a_sku_on_two_lines_is_a_programming_error():
    with pytest.raises(ValueError, match="is on lines 1 and 2"):
        place([line(1, "A", 1), line(2, "A", 1)], [])
