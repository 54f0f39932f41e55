"""The Order aggregate's rejections and re-routes, without a database."""

from decimal import Decimal

import pytest

from service.domain.orders import Order, Settlement, shipments_left
from service.errors import Conflict, ValidationFailed
from tests.unit.orders.builders import (
    LATER,
    NOW,
    event_types,
    line,
    payload_of,
    placed,
    shipment,
)


def _order() -> Order:
    """A: 4 and B: 2 on f-1 at store-1."""
    return placed([line(1, "A", 4), line(2, "B", 2, "5.00")],
                  [shipment("f-1", "store-1", ("A", 4), ("B", 2))])


def _problems(exc: pytest.ExceptionInfo) -> list[str]:
    return [p["pointer"] for p in exc.value.problems]


def test_rejecting_some_units_of_a_line_frees_them_and_keeps_the_rest_open():
    order = _order()

    freed, targets = order.reject("f-1", [{"sku": "A", "quantity": 3}], "not_found", LATER)

    assert freed == {("store-1", "A"): 3} and targets == {1: 3}
    fulfilment = order.fulfilment("f-1")
    assert [(r.sku, r.rejected, r.open) for r in fulfilment.lines] == [("A", 3, 1), ("B", 0, 2)]
    assert fulfilment.status == "created" and fulfilment.reason == "not_found"
    assert event_types(order) == ["fulfilment.rejected"]
    assert order.events[0].payload["lines"] == [{"sku": "A", "quantity": 3}]


def test_rejecting_every_open_unit_closes_the_fulfilment_as_rejected():
    order = _order()

    freed, targets = order.reject("f-1", None, "sla_expired", LATER)

    assert freed == {("store-1", "A"): 4, ("store-1", "B"): 2} and targets == {1: 4, 2: 2}
    assert order.fulfilment("f-1").status == "rejected"
    assert order.status == "created"  # nothing live, nothing backordered: not re-routed yet


def test_a_rejection_asking_too_much_or_the_wrong_lines_names_each_problem_and_changes_nothing():
    order = _order()

    with pytest.raises(ValidationFailed) as refused:
        order.reject("f-1", [{"sku": "A", "quantity": 5}, {"sku": "C"}, {"sku": "B"},
                             {"sku": "B", "quantity": 1}], "not_found", LATER)

    assert _problems(refused) == ["/lines/0/quantity", "/lines/1/sku", "/lines/3/sku"]
    assert all(r.rejected == 0 for r in order.fulfilment("f-1").lines)
    assert order.events == []


def test_a_shipped_fulfilment_cannot_be_rejected():
    order = _order()
    order.report("f-1", "shipped", at=LATER, now=LATER)

    with pytest.raises(Conflict) as refused:
        order.reject("f-1", None, "damaged", NOW)

    assert _problems(refused) == ["/type"]


def test_the_locations_that_rejected_a_line_are_remembered_per_line():
    order = _order()
    order.reject("f-1", [{"sku": "A", "quantity": 1}], "not_found", LATER)

    assert order.rejected_by(1) == {"store-1"} and order.rejected_by(2) == set()


def test_a_reroute_adds_the_new_fulfilments_and_backorders_what_it_could_not_place():
    order = _order()
    order.reject("f-1", None, "not_found", LATER)
    source = order.fulfilment("f-1")

    order.reroute(source, [shipment("f-2", "dc-1", ("A", 4))], {"B": 2}, "backorder", NOW,
                  {"rejected_by": "store-1"})

    assert [(f.id, f.location_id, f.status) for f in order.fulfilments] == [
        ("f-1", "store-1", "rejected"), ("f-2", "dc-1", "created")]
    assert order.fulfilment("f-2").created_at == NOW
    assert [(ln.sku, ln.backordered) for ln in order.lines] == [("A", 0), ("B", 2)]
    assert order.status == "partially_backordered"
    assert order.explanation["reroutes"] == [{"rejected_by": "store-1"}]
    assert event_types(order) == ["fulfilment.rejected", "fulfilment.requested",
                                  "order.allocated", "fulfilment.rerouted", "order.backordered",
                                  "order.status_changed"]
    rerouted = payload_of(order, "fulfilment.rerouted")
    assert (rerouted["order_id"], rerouted["fulfilment_id"], rerouted["location"]) == (
        "o-1", "f-1", "store-1")
    assert rerouted["to"] == [{"fulfilment_id": "f-2", "location": "dc-1",
                               "lines": [{"sku": "A", "quantity": 4}]}]
    assert (rerouted["backordered"], rerouted["cancelled"]) == (
        [{"sku": "B", "quantity": 2}], [])
    assert payload_of(order, "fulfilment.requested")["rerouted_from"] == "f-1"
    assert payload_of(order, "order.backordered")["cause"] == "rerouted"
    changed = payload_of(order, "order.status_changed")
    assert (changed["previous_status"], changed["status"]) == ("created",
                                                                "partially_backordered")


def test_a_reroute_back_to_created_is_not_announced_as_a_new_order():
    order = _order()
    order.report("f-1", "accepted", at=LATER, now=LATER)
    order.events.clear()
    order.reject("f-1", None, "not_found", NOW)
    order.reroute(order.fulfilment("f-1"), [shipment("f-2", "dc-1", ("A", 4), ("B", 2))], {},
                  "backorder", NOW, {})

    assert order.status == "created"
    assert "order.placed" not in event_types(order)
    assert [(e.payload["previous_status"], e.payload["status"]) for e in order.events
            if e.type == "order.status_changed"] == [("in_progress", "created")]


def test_an_order_that_does_not_backorder_cancels_what_a_reroute_could_not_place():
    order = _order()
    order.reject("f-1", [{"sku": "B", "quantity": 2}], "damaged", LATER)

    order.reroute(order.fulfilment("f-1"), [], {"B": 2}, "ship_available", NOW, {})

    assert [(ln.sku, ln.cancelled) for ln in order.lines] == [("A", 0), ("B", 2)]
    assert order.settlements == [Settlement("cancelled", 2, "B", 2, Decimal("10.00"), NOW)]
    assert "rejected by store-1" in order.cancel_reason


def test_a_reroute_may_add_what_the_split_policy_leaves_and_always_one_shipment():
    order = _order()
    order.reroute(order.fulfilment("f-1"), [shipment("f-2", "dc-1", ("A", 1))], {}, "backorder",
                  NOW, {})
    assert shipments_left(order.fulfilments, 3) == 1
    assert shipments_left(order.fulfilments, 2) == 1  # never none: the units must go somewhere
    order.reject("f-2", None, "damaged", NOW)  # a rejected fulfilment ships nothing
    assert shipments_left(order.fulfilments, 3) == 2
