import copy
from decimal import Decimal

import pytest

from service.domain.orders import DomainEvent, Order, Settlement
from service.errors import Conflict, ValidationFailed
from tests.unit.orders.builders import (
    LATER,
    NOW,
    PLACED,
    event_types,
    line,
    payload_of,
    placed,
    resourced,
    shipment,
)


def _order() -> Order:
    """A: 2 on f-1, 2 on f-2, 1 backordered; B: 2 on f-1; C: 1 backordered."""
    return placed([line(1, "A", 5), line(2, "B", 2, "5.50"), line(3, "C", 1, "3.00")],
                  [shipment("f-2", "store-2", ("A", 2)),
                   shipment("f-1", "dc-1", ("A", 2), ("B", 2))],
                  backordered={"A": 1, "C": 1})


def _cancelled(order: Order) -> dict[str, int]:
    return {ln.sku: ln.cancelled for ln in order.lines}


def _problems(exc: pytest.ExceptionInfo) -> list[tuple[str, str]]:
    return [(p["pointer"], p["message"]) for p in exc.value.problems]


def test_a_line_is_cancellable_for_its_open_and_backordered_units():
    order = _order()
    assert [order.cancellable(ln) for ln in order.lines] == [5, 2, 1]


def test_cancelling_without_lines_cancels_everything_still_cancellable():
    order = _order()
    released = order.cancel(None, "customer asked", NOW)
    assert _cancelled(order) == {"A": 5, "B": 2, "C": 1}
    assert [ln.backordered for ln in order.lines] == [0, 0, 0]
    assert [f.status for f in order.fulfilments] == ["cancelled", "cancelled"]
    assert order.status == "cancelled"
    assert released == {("store-2", "A"): 2, ("dc-1", "A"): 2, ("dc-1", "B"): 2}


def test_an_empty_list_of_lines_also_cancels_everything():
    order = _order()
    order.cancel([], None, NOW)
    assert order.status == "cancelled"


def test_cancelling_everything_closes_each_fulfilment_then_cancels_the_order():
    order = _order()
    order.cancel(None, "fraud", NOW)
    head = {"order_id": "o-1", "channel": "web", "status": "cancelled"}
    assert order.events == [
        DomainEvent("fulfilment", "f-1", "fulfilment.cancelled",
                    {**head, "fulfilment_id": "f-1", "location": "dc-1", "reason": "fraud",
                     "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 2}]}, NOW),
        DomainEvent("fulfilment", "f-2", "fulfilment.cancelled",
                    {**head, "fulfilment_id": "f-2", "location": "store-2", "reason": "fraud",
                     "lines": [{"sku": "A", "quantity": 2}]}, NOW),
        DomainEvent("order", "o-1", "order.cancelled",
                    {**head, "reason": "fraud",
                     "lines": [{"line_id": 101, "sku": "A", "quantity": 5},
                               {"line_id": 102, "sku": "B", "quantity": 2},
                               {"line_id": 103, "sku": "C", "quantity": 1}]}, NOW),
        DomainEvent("order", "o-1", "order.status_changed",
                    {**head, "previous_status": "partially_backordered"}, NOW),
    ]


def test_nothing_left_to_cancel_is_a_conflict():
    order = _order()
    order.cancel(None, None, NOW)
    with pytest.raises(Conflict, match="^Nothing left to cancel: every line is shipped or "
                                       "cancelled.$"):
        order.cancel(None, None, NOW)


def test_shipped_units_cannot_be_cancelled():
    order = _order()
    order.report("f-1", "shipped", at=NOW, now=NOW)
    order.report("f-2", "shipped", at=NOW, now=NOW)
    assert [order.cancellable(ln) for ln in order.lines] == [1, 0, 1]
    released = order.cancel(None, None, NOW)
    assert released == {}
    assert _cancelled(order) == {"A": 1, "B": 0, "C": 1}
    assert [f.status for f in order.fulfilments] == ["shipped", "shipped"]


def test_cancelling_some_lines_leaves_the_others_alone():
    order = _order()
    released = order.cancel([{"sku": "B"}], "out of season", NOW)
    assert _cancelled(order) == {"A": 0, "B": 2, "C": 0}
    assert released == {("dc-1", "B"): 2}
    assert order.fulfilment("f-1").status == "created"  # A is still open on it
    assert order.events == [DomainEvent(  # the status did not change: nothing more
        "order", "o-1", "order.lines_cancelled",
        {"order_id": "o-1", "channel": "web", "status": "partially_backordered",
         "reason": "out of season", "lines": [{"line_id": 102, "sku": "B", "quantity": 2}]},
        NOW)]


def test_the_cancel_event_lists_the_lines_in_the_order_they_were_asked():
    order = _order()
    order.cancel([{"sku": "C"}, {"sku": "A", "quantity": 1}], None, NOW)
    assert payload_of(order, "order.lines_cancelled")["lines"] == [
        {"line_id": 103, "sku": "C", "quantity": 1}, {"line_id": 101, "sku": "A", "quantity": 1}]


def test_cancelling_takes_backordered_units_before_allocated_ones():
    order = _order()
    released = order.cancel([{"sku": "A", "quantity": 1}], None, NOW)
    assert (order.lines[0].backordered, order.lines[0].cancelled) == (0, 1)
    assert released == {}
    assert [row.cancelled for f in order.fulfilments for row in f.lines] == [0, 0, 0]


def test_cancelling_releases_from_the_latest_fulfilment_first():
    order = _order()
    released = order.cancel([{"sku": "A", "quantity": 2}], None, NOW)
    assert released == {("store-2", "A"): 1}
    assert order.fulfilment("f-2").lines[0].cancelled == 1
    assert order.fulfilment("f-1").lines[0].cancelled == 0


def test_the_latest_fulfilment_is_the_one_created_last_not_the_highest_id():
    order = _order()
    resourced(order, "f-0", "dc-9", ("A", 1))
    order.lines[0].quantity += 1
    released = order.cancel([{"sku": "A", "quantity": 2}], None, NOW)
    assert released == {("dc-9", "A"): 1}


def test_cancelling_spills_over_to_earlier_fulfilments_and_closes_the_emptied_one():
    order = _order()
    released = order.cancel([{"sku": "A", "quantity": 4}], "late", NOW)
    assert released == {("store-2", "A"): 2, ("dc-1", "A"): 1}
    f_1, f_2 = order.fulfilments
    assert (f_2.status, f_2.updated_at) == ("cancelled", NOW)
    assert (f_1.status, f_1.updated_at) == ("created", PLACED)
    assert [(row.sku, row.cancelled, row.open) for row in f_1.lines] == [("A", 1, 1), ("B", 0, 2)]
    assert event_types(order) == ["fulfilment.cancelled", "order.lines_cancelled"]


def test_cancelling_settles_each_line_at_its_unit_price_in_line_order_as_of_the_cancel():
    order = _order()
    order.cancel([{"sku": "C"}, {"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 3}],
                 None, NOW)
    assert order.settlements == [
        Settlement("cancelled", 1, "A", 3, Decimal("30.00"), NOW),
        Settlement("cancelled", 2, "B", 1, Decimal("5.50"), NOW),
        Settlement("cancelled", 3, "C", 1, Decimal("3.00"), NOW),
    ]


def test_cancelling_everything_settles_only_lines_with_something_cancelled():
    order = _order()
    order.report("f-1", "shipped", at=NOW, now=NOW)
    order.settlements.clear()
    order.cancel(None, None, NOW)
    assert [(s.kind, s.sku, s.quantity) for s in order.settlements] == [
        ("cancelled", "A", 3), ("cancelled", "C", 1)]
    assert payload_of(order, "order.lines_cancelled")["lines"] == [  # B shipped: goes on
        {"line_id": 101, "sku": "A", "quantity": 3}, {"line_id": 103, "sku": "C", "quantity": 1}]


def test_cancelling_more_than_is_left_names_the_line_and_what_can_still_go():
    with pytest.raises(ValidationFailed, match="^Some lines cannot be cancelled as asked.$") \
            as exc:
        _order().cancel([{"sku": "B", "quantity": 3}], None, NOW)
    assert _problems(exc) == [("/lines/0/quantity", "only 2 of B can still be cancelled")]


def test_a_line_with_nothing_left_cannot_be_cancelled_even_without_a_quantity():
    order = _order()
    order.cancel([{"sku": "C"}], None, NOW)
    with pytest.raises(ValidationFailed) as exc:
        order.cancel([{"sku": "C"}], None, NOW)
    assert _problems(exc) == [("/lines/0/quantity", "only 0 of C can still be cancelled")]


def test_a_line_listed_twice_is_refused_at_its_second_listing():
    with pytest.raises(ValidationFailed) as exc:
        _order().cancel([{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}], None, NOW)
    assert _problems(exc) == [("/lines/1/sku", "'A' is listed twice")]


def test_a_sku_not_on_the_order_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        _order().cancel([{"sku": "Z"}], None, NOW)
    assert _problems(exc) == [("/lines/0/sku", "'Z' is not on the order")]


@pytest.mark.parametrize(("quantity", "message"), [
    (0, "0 is less than the minimum of 1"), (-2, "-2 is less than the minimum of 1"),
    ("2", "'2' is not of type 'integer'"),
])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(quantity, message):
    with pytest.raises(ValidationFailed) as exc:
        _order().cancel([{"sku": "A", "quantity": quantity}], None, NOW)
    assert _problems(exc) == [("/lines/0/quantity", message)]


def test_a_refused_cancel_names_every_problem_and_changes_nothing():
    order = _order()
    before = copy.deepcopy(order)
    with pytest.raises(ValidationFailed) as exc:
        order.cancel([{"sku": "A", "quantity": 1}, {"sku": "Z"}, {"sku": "B", "quantity": 9},
                      {"sku": "A"}], None, NOW)
    assert _problems(exc) == [("/lines/1/sku", "'Z' is not on the order"),
                              ("/lines/2/quantity", "only 2 of B can still be cancelled"),
                              ("/lines/3/sku", "'A' is listed twice")]
    assert order == before


def test_the_order_is_stamped_updated_only_when_cancelling_changes_its_status():
    order = _order()
    order.cancel([{"sku": "B", "quantity": 1}], None, LATER)
    assert order.updated_at == PLACED
    order.cancel(None, None, NOW)
    assert order.updated_at == NOW


def _partly_rejected() -> Order:
    """A: 2 on f-1 at dc-1, 1 on f-2 at store-2 (the latest), B: 1 on f-2."""
    return placed([line(1, "A", 3), line(2, "B", 1)],
                  [shipment("f-1", "dc-1", ("A", 2)),
                   shipment("f-2", "store-2", ("A", 1), ("B", 1))])


def test_units_a_location_rejected_are_neither_cancelled_nor_released_again():
    order = _partly_rejected()
    order.fulfilment("f-2").lines[0].rejected = 1
    released = order.cancel([{"sku": "A"}], None, NOW)
    assert released == {("dc-1", "A"): 2}
    assert order.fulfilment("f-2").lines[0].cancelled == 0
    assert order.fulfilment("f-2").status == "created"  # B is still open on it


def test_a_fulfilment_no_longer_open_is_left_alone():
    order = _partly_rejected()
    order.fulfilment("f-2").status = "rejected"
    assert order.cancellable(order.lines[0]) == 2
    released = order.cancel([{"sku": "A"}], None, NOW)
    assert released == {("dc-1", "A"): 2}
    assert [row.cancelled for row in order.fulfilment("f-2").lines] == [0, 0]
    assert order.fulfilment("f-2").status == "rejected"


def test_the_cancel_reason_is_kept_on_the_order_and_on_the_fulfilments_it_cancels():
    order = _order()
    order.cancel([{"sku": "A", "quantity": 3}], "customer asked", NOW)
    assert order.cancel_reason == "customer asked"
    assert [(f.id, f.status, f.reason) for f in order.fulfilments] == [
        ("f-1", "created", None), ("f-2", "cancelled", "customer asked")]


def test_a_cancel_without_a_reason_keeps_the_one_given_before():
    order = _order()
    order.cancel([{"sku": "C"}], "out of season", NOW)
    order.cancel(None, None, NOW)
    assert order.cancel_reason == "out of season"
    assert [f.reason for f in order.fulfilments] == [None, None]
