"""A return restocked is stock rising like any other (issue 14's "return restock" trigger):
the receipt's transaction leaves a wakeup for the SKU, and the `orders.backorders` job
releases the order waiting for it, oldest first, from the restocked units."""

from tests.api.orders.test_backorder_release import backordered, run_job, wakeups
from tests.api.returns.conftest import line, on_hand
from tests.support import assert_ledger_consistent


def test_a_restocked_return_releases_the_order_waiting_for_that_sku(
        stocked, shipped, order, open_return, receive, client, admin, ctx):
    first = shipped([{"sku": "B", "quantity": 5}])  # every B there is (DC-1)
    assert on_hand(ctx, "DC-1", "B") == 0
    waiting = order([{"sku": "B", "quantity": 3}])
    assert waiting.json["status"] == "backordered"
    return_id = open_return(first["id"], [{"sku": "B", "quantity": 2}]).json["id"]
    assert wakeups(ctx) == []

    received = receive(return_id, "DC-1", [line("B", 2, "new", "changed mind")])

    assert received.json["receipts"][0]["lines"][0]["disposition"] == "restock"
    assert wakeups(ctx) == ["B"]
    assert run_job(ctx, "orders.backorders") is True
    after = client.get(f"/v1/orders/{waiting.json['id']}", headers=admin).json
    assert backordered(client, admin, waiting.json["id"]) == 1
    [released] = after["fulfilments"]
    assert (released["location"], released["lines"][0]["quantity"]) == ("DC-1", 2)
    assert after["status"] == "partially_backordered"
    assert_ledger_consistent(ctx)


def test_a_discarded_return_wakes_nobody(stocked, shipped, order, open_return, receive, ctx):
    first = shipped([{"sku": "B", "quantity": 5}])
    order([{"sku": "B", "quantity": 3}])
    return_id = open_return(first["id"], [{"sku": "B", "quantity": 2}]).json["id"]

    receive(return_id, "DC-1", [line("B", 2, "damaged", "crushed")])

    assert wakeups(ctx) == [] and on_hand(ctx, "DC-1", "B") == 0
