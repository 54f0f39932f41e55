"""What an order does when stock is short: `on_short` reject, backorder or ship_available,
by default what the ruleset's split fallback does (on SQLite and PostgreSQL).

The `stocked` network sells the web 28 of A (8 at ST-1, 20 at DC-1) and 5 of B (DC-1).
"""

from sqlalchemy import func, select

from service.store.models import Event, OrderRow, SettlementRecord
from tests.support import assert_ledger_consistent


def count(ctx, model) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def web_ats(client, admin, sku):
    return client.get(f"/v1/availability?channel=web&sku={sku}",
                      headers=admin).json["items"][0]["available"]


def test_by_default_an_order_backorders_what_is_short_as_the_ruleset_falls_back(stocked, order):
    placed = order([{"sku": "A", "quantity": 5000}])
    assert placed.status_code == 201 and placed.json["status"] == "partially_backordered"
    assert placed.json["on_short"] == "backorder"
    assert (placed.json["lines"][0]["allocated"], placed.json["lines"][0]["backordered"]) == (
        28, 4972)


def test_an_order_that_rejects_when_short_is_refused_and_writes_nothing(stocked, order, client,
                                                                       admin, ctx):
    response = order([{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 5000}],
                     on_short="reject")
    assert response.status_code == 409 and response.json["code"] == "insufficient_stock"
    assert [(p["pointer"], p["sku"], p["short"]) for p in response.json["problems"]] == [
        ("/lines/1", "A", 4972)]
    assert count(ctx, OrderRow) == 0
    assert (web_ats(client, admin, "A"), web_ats(client, admin, "B")) == (28, 5)
    assert_ledger_consistent(ctx)


def test_an_order_that_ships_what_is_available_cancels_the_rest_at_once(stocked, order, client,
                                                                        admin, ctx):
    placed = order([{"sku": "A", "quantity": 30}, {"sku": "B", "quantity": 2}],
                   on_short="ship_available")
    assert placed.status_code == 201 and placed.json["on_short"] == "ship_available"
    a, b = placed.json["lines"]
    assert (a["allocated"], a["backordered"], a["cancelled"]) == (28, 0, 2)
    assert (b["allocated"], b["backordered"], b["cancelled"]) == (2, 0, 0)
    assert placed.json["status"] == "created"
    assert placed.json["cancel_reason"] == "not in stock when placed (on_short: ship_available)"
    with ctx.sessions() as session:
        [settled] = session.scalars(select(SettlementRecord)).all()
        created = session.scalar(select(Event.payload).where(Event.type == "order.placed"))
    assert (settled.kind, settled.sku, settled.quantity, settled.amount) == (
        "cancelled", "A", 2, 20)
    assert created["cancelled"] == [{"sku": "A", "quantity": 2}]
    assert web_ats(client, admin, "A") == 0
    assert_ledger_consistent(ctx)


def test_an_order_that_ships_what_is_available_is_refused_when_nothing_is(stocked, order, ctx):
    assert order([{"sku": "B", "quantity": 5}]).status_code == 201
    response = order([{"sku": "B", "quantity": 1}], on_short="ship_available")
    assert response.status_code == 409 and response.json["code"] == "insufficient_stock"
    assert count(ctx, OrderRow) == 1


def test_an_order_may_backorder_where_the_ruleset_would_refuse(stocked, order, client, admin):
    client.post("/v1/rulesets/activate", json={"name": "strict"}, headers=admin)
    assert order([{"sku": "A", "quantity": 25}]).status_code == 409  # the ruleset's reject
    placed = order([{"sku": "A", "quantity": 25}], on_short="backorder")
    assert placed.status_code == 201 and len(placed.json["fulfilments"]) == 1  # ship_complete
    assert (placed.json["lines"][0]["allocated"], placed.json["lines"][0]["backordered"]) == (
        20, 5)


def test_an_unknown_on_short_is_named(stocked, order):
    response = order([{"sku": "A", "quantity": 1}], on_short="later")
    assert response.status_code == 422
    assert [p["pointer"] for p in response.json["problems"]] == ["/on_short"]


def test_a_dry_run_says_what_the_order_would_do_when_short(stocked, client, admin):
    body = {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0}, "on_short": "reject",
            "lines": [{"sku": "A", "quantity": 5000}]}
    plan = client.post("/v1/sourcing/plan", json=body, headers=admin).json
    assert plan["on_short"] == "reject" and plan["unfulfilled"] == [{"sku": "A",
                                                                     "quantity": 4972}]


def test_a_pickup_is_refused_when_its_store_is_short_whatever_on_short_says(stocked, client,
                                                                            admin):
    body = {"channel": "store_pickup", "lines": [{"sku": "A", "quantity": 50}],
            "attributes": {"delivery_method": "pickup"}, "pickup_location": "ST-1",
            "on_short": "backorder"}
    assert client.post("/v1/orders", json=body, headers=admin).status_code == 409
