"""A channel's order_ref names one order: a second order with it is a 409 naming the first,
whether or not an Idempotency-Key came with it (on SQLite and PostgreSQL)."""

from sqlalchemy import func, select

from service.store.models import OrderRow
from tests.support import assert_ledger_consistent


def orders(ctx) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(OrderRow))


def test_a_second_order_with_the_same_ref_is_a_409_naming_the_first(stocked, order, ctx):
    first = order([{"sku": "A", "quantity": 1}], order_ref="WEB-1001")
    again = order([{"sku": "A", "quantity": 1}], order_ref="WEB-1001")
    assert first.status_code == 201 and again.status_code == 409
    problem = again.json
    assert problem["code"] == "duplicate_order_ref"
    assert problem["order_id"] == first.json["id"] and first.json["id"] in problem["detail"]
    assert [p["pointer"] for p in problem["problems"]] == ["/order_ref"]
    assert orders(ctx) == 1
    assert_ledger_consistent(ctx)


def test_a_retry_without_a_key_after_the_stock_ran_out_still_names_the_first_order(
        stocked, order, ctx):
    first = order([{"sku": "B", "quantity": 5}], order_ref="WEB-1002", on_short="reject")
    again = order([{"sku": "B", "quantity": 5}], order_ref="WEB-1002", on_short="reject")
    assert first.status_code == 201
    assert again.status_code == 409 and again.json["code"] == "duplicate_order_ref"
    assert again.json["order_id"] == first.json["id"]


def test_a_new_key_does_not_make_the_same_ref_a_new_order(stocked, order, ctx):
    first = order([{"sku": "A", "quantity": 1}], key="k-1", order_ref="WEB-1003")
    again = order([{"sku": "A", "quantity": 1}], key="k-2", order_ref="WEB-1003")
    assert again.status_code == 409 and again.json["order_id"] == first.json["id"]
    assert orders(ctx) == 1


def test_an_idempotency_key_replay_still_replays(stocked, order, ctx):
    first = order([{"sku": "A", "quantity": 1}], key="k-3", order_ref="WEB-1004")
    again = order([{"sku": "A", "quantity": 1}], key="k-3", order_ref="WEB-1004")
    assert again.status_code == 201 and again.json["id"] == first.json["id"]
    assert again.json["idempotent_replay"] is True and orders(ctx) == 1


def test_the_same_ref_in_another_channel_is_another_order(stocked, client, admin, order):
    order([{"sku": "A", "quantity": 1}], order_ref="SHARED-1")
    body = {"channel": "marketplace", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": "A", "quantity": 1}], "order_ref": "SHARED-1"}
    assert client.post("/v1/orders", json=body, headers=admin).status_code == 201


def test_orders_without_a_ref_are_never_duplicates(stocked, order, ctx):
    assert order([{"sku": "A", "quantity": 1}]).status_code == 201
    assert order([{"sku": "A", "quantity": 1}]).status_code == 201
    assert orders(ctx) == 2
