"""Opening a return: only shipped units, never more than shipped less what returns already
hold (open or received), one line per SKU; a refused return writes nothing."""

import pytest

from tests.api.returns.conftest import line, written


def test_a_return_of_shipped_units_opens_with_its_lines_and_an_event(
        stocked, shipped, open_return, client, admin, ctx):
    placed = shipped([{"sku": "A", "quantity": 3, "unit_price": 12.5}])
    assert placed["status"] == "shipped"

    opened = open_return(placed["id"], [{"sku": "A", "quantity": 2, "reason": "too small"}])

    assert opened.status_code == 201, opened.json
    body = opened.json
    assert body["status"] == "opened" and body["order_id"] == placed["id"]
    assert body["channel"] == "web" and body["receipts"] == []
    assert body["lines"] == [{"sku": "A", "quantity": 2, "received": 0, "open": 2,
                              "reason": "too small"}]
    assert opened.headers["Location"].endswith(f"/v1/returns/{body['id']}")
    assert client.get(f"/v1/returns/{body['id']}", headers=admin).json == body
    timeline = client.get(f"/v1/orders/{placed['id']}/events", headers=admin).json
    entry = next(e for e in timeline if e["type"] == "return.opened")
    assert entry["data"] == {"return_id": body["id"], "order_id": placed["id"],
                             "channel": "web", "lines": [{"sku": "A", "quantity": 2}]}
    # opening changes nothing of the order's status: nothing came back yet
    assert client.get(f"/v1/orders/{placed['id']}", headers=admin).json["status"] == "shipped"


def test_more_than_was_shipped_is_refused_naming_the_line_and_nothing_is_written(
        stocked, shipped, open_return, ctx):
    placed = shipped([{"sku": "A", "quantity": 2}])
    before = written(ctx)

    refused = open_return(placed["id"], [{"sku": "A", "quantity": 3}])

    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["code"] == "over_return"
    [found] = refused.json["problems"]
    assert found["pointer"] == "/lines/0/quantity" and found["returnable"] == 2
    assert written(ctx) == before


def test_two_returns_together_never_take_more_than_was_shipped(
        stocked, shipped, open_return, receive, ctx):
    placed = shipped([{"sku": "A", "quantity": 3}])
    first = open_return(placed["id"], [{"sku": "A", "quantity": 2}])
    assert first.status_code == 201
    before = written(ctx)

    second = open_return(placed["id"], [{"sku": "A", "quantity": 2}])

    assert second.status_code == 409 and second.json["problems"][0]["returnable"] == 1
    assert written(ctx) == before
    # received units still count: the first return received, one unit is left to return
    assert receive(first.json["id"], "ST-1", [line("A", 2)]).status_code == 200
    assert open_return(placed["id"], [{"sku": "A", "quantity": 2}]).status_code == 409
    assert open_return(placed["id"], [{"sku": "A", "quantity": 1}]).status_code == 201
    assert open_return(placed["id"], [{"sku": "A", "quantity": 1}]).status_code == 409


def test_units_not_shipped_yet_cannot_be_returned(stocked, order, open_return, ctx):
    placed = order([{"sku": "A", "quantity": 2}])
    before = written(ctx)

    refused = open_return(placed.json["id"], [{"sku": "A", "quantity": 1}])

    assert refused.status_code == 409 and refused.json["problems"][0]["returnable"] == 0
    assert written(ctx) == before


@pytest.mark.parametrize(("lines", "pointer"), [
    ([{"sku": "Z", "quantity": 1}], "/lines/0/sku"),  # unknown anywhere
    ([{"sku": "B", "quantity": 1}], "/lines/0/sku"),  # a product, not on the order
    ([{"sku": "A", "quantity": 0}], "/lines/0/quantity"),
    ([{"sku": "A", "quantity": -1}], "/lines/0/quantity"),
    ([{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}], "/lines/1/sku"),
    ([], "/lines"),
    ([{"sku": "A", "quantity": 1, "colour": "red"}], "/lines/0"),
])
def test_bad_lines_are_a_422_naming_the_field_and_nothing_is_written(
        stocked, shipped, open_return, ctx, lines, pointer):
    placed = shipped([{"sku": "A", "quantity": 2}])
    before = written(ctx)

    refused = open_return(placed["id"], lines)

    assert refused.status_code == 422, refused.json
    assert pointer in [p["pointer"] for p in refused.json["problems"]]
    assert written(ctx) == before


def test_an_idempotency_key_replays_the_first_return_and_refuses_another_body(
        stocked, shipped, open_return, ctx):
    placed = shipped([{"sku": "A", "quantity": 3}])
    first = open_return(placed["id"], [{"sku": "A", "quantity": 1}], key="rma-1")
    before = written(ctx)

    again = open_return(placed["id"], [{"sku": "A", "quantity": 1}], key="rma-1")
    other = open_return(placed["id"], [{"sku": "A", "quantity": 2}], key="rma-1")

    assert again.status_code == 201 and again.json["id"] == first.json["id"]
    assert again.json["idempotent_replay"] is True
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert written(ctx) == before


def test_only_admins_and_the_orders_channel_may_open_a_return_others_get_404(
        stocked, shipped, open_return, headers_for, ctx):
    placed = shipped([{"sku": "A", "quantity": 3}])
    before = written(ctx)

    assert open_return(placed["id"], [{"sku": "A", "quantity": 1}],
                       headers=headers_for("channel:marketplace")).status_code == 404
    assert open_return(placed["id"], [{"sku": "A", "quantity": 1}],
                       headers=headers_for("location:ST-1")).status_code == 404
    assert open_return("no-such-order", [{"sku": "A", "quantity": 1}]).status_code == 404
    assert written(ctx) == before
    assert open_return(placed["id"], [{"sku": "A", "quantity": 1}],
                       headers=headers_for("channel:web")).status_code == 201
