from service.domain.orders import LineState, derive_status


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
