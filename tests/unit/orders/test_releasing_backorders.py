"""Releasing an order's backordered units, without a database."""

import pytest

from service.domain.orders import backordered_units, release_backorder
from service.errors import Conflict
from tests.unit.orders.builders import NOW, event_types, line, payload_of, placed, shipment


def _waiting():
    """A: 4 (1 shipped from store-1, 3 waiting) and B: 2 (all waiting)."""
    return placed([line(1, "A", 4), line(2, "B", 2)], [shipment("f-1", "store-1", ("A", 1))],
                  backordered={"A": 3, "B": 2})


def test_a_release_adds_its_fulfilments_and_lowers_what_each_line_waits_for():
    order = _waiting()
    assert order.status == "partially_backordered" and backordered_units(order) == {1: 3, 2: 2}

    released = release_backorder(order, [shipment("f-2", "dc-1", ("A", 3), ("B", 1))], NOW,
                                 {"trigger": "sweep"})

    assert released == {"A": 3, "B": 1} and backordered_units(order) == {2: 1}
    assert [(f.id, f.location_id) for f in order.fulfilments] == [("f-1", "store-1"),
                                                                    ("f-2", "dc-1")]
    assert order.explanation["releases"] == [{"trigger": "sweep"}]
    assert event_types(order) == ["fulfilment.requested", "order.allocated", "order.released"]
    assert order.events[-1].payload["still_backordered"] == [{"sku": "B", "quantity": 1}]
    assert payload_of(order, "order.allocated")["cause"] == "released"
    assert order.updated_at == NOW


def test_releasing_the_last_waiting_units_moves_the_status_on():
    order = _waiting()

    release_backorder(order, [shipment("f-2", "dc-1", ("A", 3), ("B", 2))], NOW, {})

    assert order.status == "created"
    assert event_types(order) == ["fulfilment.requested", "order.allocated", "order.released",
                                  "order.status_changed"]
    for type_ in ("order.released", "order.status_changed"):
        assert (payload_of(order, type_)["previous_status"],
                payload_of(order, type_)["status"]) == ("partially_backordered", "created")


def test_a_plan_for_more_than_is_waiting_is_refused_and_changes_nothing():
    order = _waiting()

    with pytest.raises(Conflict):
        release_backorder(order, [shipment("f-2", "dc-1", ("B", 3))], NOW, {})

    assert backordered_units(order) == {1: 3, 2: 2} and len(order.fulfilments) == 1
    assert order.events == []


def test_an_empty_plan_releases_nothing_and_records_nothing():
    order = _waiting()

    assert release_backorder(order, [], NOW, {}) == {}
    assert order.events == [] and "releases" not in order.explanation
