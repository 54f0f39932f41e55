"""Returns as plain objects: what may be returned, partial receipts, the statuses of the
return and of the order, and the returns rules deciding each line the same way compiled
and through business-rules (the reference), naming the rule that decided."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest

from service.domain.orders import LineState, derive_status
from service.domain.returns import (
    Receipt,
    checked_receipt,
    derive_return_status,
    open_return,
    receive,
    record_returned,
    returnable,
    takes_returns,
)
from service.domain.returns.receiving import received_line
from service.errors import OverReceipt, OverReturn, ValidationFailed
from service.rules import Registry, evaluate_return
from service.rules.evaluate import evaluate_return_reference
from tests.support import FIXTURES
from tests.unit.orders.builders import NOW, line, loaded, place, shipment


def shipped_order(quantity: int = 3):
    order = loaded(place([line(1, "A", quantity, "7.50"), line(2, "B", 1)],
                         [shipment("f-1", "ST-1", ("A", quantity), ("B", 1))]))
    order.report("f-1", "shipped", at=NOW, now=NOW)
    order.events.clear()
    order.settlements.clear()
    return order


def test_only_shipped_units_not_in_returns_yet_may_be_returned():
    order = shipped_order(3)
    assert returnable(order, {101: 1}) == {"A": (101, 3, 2), "B": (102, 1, 1)}
    with pytest.raises(OverReturn) as refused:
        open_return(order, [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 3}],
                    {101: 1}, id="r-1", at=NOW)
    assert [p["pointer"] for p in refused.value.problems] == ["/lines/1/quantity"]


def test_a_sku_not_on_the_order_or_repeated_is_a_validation_problem_before_any_quantity():
    order = shipped_order()
    with pytest.raises(ValidationFailed) as refused:
        open_return(order, [{"sku": "Q", "quantity": 9}, {"sku": "A", "quantity": 9},
                            {"sku": "A", "quantity": 1}], {}, id="r-1", at=NOW)
    assert [p["pointer"] for p in refused.value.problems] == ["/lines/0/sku", "/lines/2/sku"]


def test_partial_receipts_add_up_and_never_pass_what_was_opened():
    order = shipped_order(3)
    ret = open_return(order, [{"sku": "A", "quantity": 3}], {}, id="r-1", at=NOW)
    assert ret.status == "opened"
    first = [{"sku": "A", "quantity": 1, "condition": "new", "reason": "r"}]
    checked_receipt(ret, first)
    units = receive(ret, Receipt("p-1", "ST-2", "t@1", "admin", NOW, [
        received_line(first[0], "restock", None, Decimal("7.50"), "V")]))
    assert units == {101: 1} and ret.status == "partially_received"
    assert ret.receipts[0].lines[0].vendor is None  # only a vendor return names the vendor
    with pytest.raises(OverReceipt) as refused:
        checked_receipt(ret, [{"sku": "A", "quantity": 2}, {"sku": "A", "quantity": 1}])
    assert [p["pointer"] for p in refused.value.problems] == ["/lines/1/quantity"]
    [opened, received, *disposed] = [e.type for e in ret.events]
    assert (opened, received, disposed) == ("return.opened", "return.received",
                                            ["return.disposed"])


def test_the_return_status_follows_its_lines():
    order = shipped_order(2)
    ret = open_return(order, [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}], {},
                      id="r-1", at=NOW)
    assert derive_return_status(ret.lines) == "opened"
    ret.lines[1].received = 1
    assert derive_return_status(ret.lines) == "partially_received"
    ret.lines[0].received = 2
    assert derive_return_status(ret.lines) == "received"


def test_the_order_is_partially_returned_then_returned_and_says_so_once_each():
    order = shipped_order(2)
    record_returned(order, {101: 1}, NOW)
    assert order.status == "partially_returned"
    record_returned(order, {101: 1, 102: 1}, NOW)
    record_returned(order, {}, NOW)
    assert order.status == "returned"
    assert [(e.type, e.payload["previous_status"], e.payload["status"])
            for e in order.events] == [
        ("order.status_changed", "shipped", "partially_returned"),
        ("order.status_changed", "partially_returned", "returned")]


@pytest.mark.parametrize(("lines", "status"), [
    ([LineState(3, returned=1)], "partially_returned"),
    ([LineState(3, cancelled=1, returned=2)], "returned"),
    ([LineState(3, cancelled=3)], "cancelled"),
    ([LineState(3, returned=3), LineState(1)], "partially_returned"),
])
def test_returned_units_decide_the_order_status_once_any_came_back(lines, status):
    assert derive_status(lines, ["shipped"]) == status


def test_active_stores_and_dcs_take_returns_and_nothing_else_does():
    assert takes_returns({"location_type": "store", "active": True})
    assert takes_returns({"location_type": "dc", "active": True})
    assert not takes_returns({"location_type": "dc", "active": False})
    assert not takes_returns({"location_type": "dropship", "active": True})
    assert not takes_returns({"location_type": "3pl", "active": True})
    assert not takes_returns(None)


def test_compiled_and_reference_dispositions_agree_and_name_the_same_rule():
    registry = Registry(FIXTURES / "rulesets")
    registry.reload()
    ruleset = registry.get("returns", 1)
    base = {"sku": "A", "category": "home", "brand": "", "price": 10.0, "tags": [],
            "location_id": "ST-1", "location_type": "store", "channel": "web",
            "days_since_delivery": 3}
    seen = set()
    for condition, reason in product(("new", "opened", "damaged", "defective"),
                                     ("", "hygiene seal broken", "too small")):
        facts = base | {"condition": condition, "reason": reason}
        compiled = evaluate_return(ruleset, facts)
        reference = evaluate_return_reference(ruleset, facts)
        assert (compiled.disposition, compiled.rule) == (reference.disposition, reference.rule)
        seen.add((compiled.disposition, compiled.rule))
    assert seen == {("restock", None), ("discard", "damaged-goods-are-discarded"),
                    ("return_to_vendor", "defective-goods-go-back-to-vendor"),
                    ("discard", "opened-hygiene-items-are-discarded")}
