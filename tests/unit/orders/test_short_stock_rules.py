"""What an order does with units no location can ship now, as pure rules (no database)."""

from decimal import Decimal

import pytest

from service.domain.orders import (
    DomainEvent,
    Order,
    Settlement,
    default_on_short,
    planner_fallback,
    refused,
    split_short,
)
from tests.unit.orders.builders import PLACED, line, shipment


@pytest.mark.parametrize(("fallback", "on_short"), [
    ("reject", "reject"), ("backorder", "backorder"), ("allow_split", "backorder")])
def test_an_order_that_does_not_say_does_what_its_rulesets_fallback_does(fallback, on_short):
    assert default_on_short(fallback) == on_short


@pytest.mark.parametrize(("on_short", "fallback", "planned"), [
    ("reject", "reject", "reject"), ("reject", "backorder", "backorder"),
    ("backorder", "reject", "backorder"), ("ship_available", "reject", "backorder"),
    ("ship_available", "allow_split", "allow_split")])
def test_an_order_that_keeps_what_it_can_is_planned_for_the_most_units(on_short, fallback,
                                                                       planned):
    assert planner_fallback(on_short, fallback) == planned


@pytest.mark.parametrize(("on_short", "shipped", "verdict"), [
    ("reject", 5, True), ("backorder", 0, False), ("ship_available", 5, False),
    ("ship_available", 0, True)])
def test_a_short_order_is_refused_when_it_rejects_or_could_ship_nothing(on_short, shipped,
                                                                        verdict):
    assert refused(on_short, {"A": 2}, shipped) is verdict


@pytest.mark.parametrize("on_short", ["reject", "backorder", "ship_available"])
def test_an_order_with_nothing_short_is_never_refused(on_short):
    assert refused(on_short, {"A": 0}, 0) is False


def test_short_units_are_backordered_or_cancelled_as_the_order_says():
    assert split_short("backorder", {"A": 2, "B": 0}) == ({"A": 2}, {})
    assert split_short("ship_available", {"A": 2}) == ({}, {"A": 2})
    assert split_short("reject", {}) == ({}, {})
    with pytest.raises(ValueError, match="rejects when short"):
        split_short("reject", {"A": 1})


def test_units_cancelled_as_the_order_is_placed_are_settled_and_announced_with_it():
    order = Order.place(
        id="o-1", channel="web", lines=[line(1, "A", 3), line(2, "B", 2, "5.50")],
        shipments=[shipment("f-1", "dc-1", ("A", 1), ("B", 2))], backordered={},
        cancelled={"A": 2}, on_short="ship_available", at=PLACED, ruleset="default@3")
    assert [(ln.sku, ln.cancelled, ln.backordered) for ln in order.lines] == [
        ("A", 2, 0), ("B", 0, 0)]
    assert order.status == "created" and order.on_short == "ship_available"
    assert order.cancel_reason == "not in stock when placed (on_short: ship_available)"
    assert order.settlements == [Settlement("cancelled", 1, "A", 2, Decimal("20.00"), PLACED)]
    assert order.events[0] == DomainEvent("order", "o-1", "order.placed", {
        "order_id": "o-1", "channel": "web", "status": "created", "ruleset": "default@3",
        "order_ref": None, "customer_id": None, "delivery_method": "ship",
        "lines": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 2}],
        "cancelled": [{"sku": "A", "quantity": 2}]}, PLACED)
