from service.domain.orders import LineState, Order, derive_status
from tests.unit.orders.builders import line, place, shipment


def test_a_new_order_with_open_fulfilments_is_created():
    assert derive_status([LineState(2)], ["created", "created"]) == "created"


def test_an_order_whose_lines_are_all_cancelled_is_cancelled():
    assert derive_status([LineState(2, cancelled=2)], ["cancelled"]) == "cancelled"


def test_an_order_waiting_only_on_backorders_is_backordered():
    assert derive_status([LineState(3, backordered=3)], []) == "backordered"


def test_some_allocated_and_some_backordered_is_partially_backordered():
    assert derive_status([LineState(3, backordered=1)], ["created"]) == "partially_backordered"


def test_progress_follows_the_live_fulfilments():
    lines = [LineState(2)]
    assert derive_status(lines, ["accepted", "created"]) == "in_progress"
    assert derive_status(lines, ["shipped", "created"]) == "partially_shipped"
    assert derive_status(lines, ["shipped", "delivered"]) == "shipped"
    assert derive_status(lines, ["delivered", "cancelled"]) == "delivered"


def test_rejected_and_cancelled_fulfilments_do_not_count_as_progress():
    assert derive_status([LineState(1)], ["rejected", "created"]) == "created"


def _order() -> Order:
    return place([line(1, "A", 2), line(2, "B", 1)],
                 [shipment("f-1", "dc-1", ("A", 2)), shipment("f-2", "store-2", ("B", 1))])


def test_the_order_status_is_derived_from_its_fulfilments_whenever_it_is_read():
    order = _order()
    assert order.status == "created"
    order.fulfilments[0].status = "picked"
    assert order.status == "in_progress"
    order.fulfilments[0].status = "shipped"
    assert order.status == "partially_shipped"
    order.fulfilments[1].status = "delivered"
    assert order.status == "shipped"
    order.fulfilments[0].status = "delivered"
    assert order.status == "delivered"


def test_the_order_status_is_derived_from_its_lines_too():
    order = _order()
    order.lines[1].backordered = 1
    assert order.status == "partially_backordered"
    for ln in order.lines:
        ln.cancelled = ln.quantity
    assert order.status == "cancelled"


def test_a_rejected_fulfilment_is_no_progress_for_the_order():
    order = _order()
    order.fulfilments[0].status = "rejected"
    order.fulfilments[1].status = "accepted"
    assert order.status == "in_progress"
    order.fulfilments[1].status = "cancelled"
    assert order.status == "created"
