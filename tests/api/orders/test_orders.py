"""Placing, reading and cancelling orders over HTTP, on SQLite and PostgreSQL."""

from sqlalchemy import func, select

from service.store.models import Event, OrderRow, SettlementRecord


def count(ctx, model):
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def ats(client, admin, sku, channel="web"):
    return client.get(f"/v1/availability?channel={channel}&sku={sku}",
                      headers=admin).json["items"][0]["available"]


def test_a_plan_is_a_dry_run_with_costs_and_an_explanation(stocked, client, admin):
    body = {"channel": "web", "ship_to": {"postal_code": "10001"},
            "lines": [{"sku": "A", "quantity": 2}]}
    response = client.post("/v1/sourcing/plan", json=body, headers=admin)
    assert response.status_code == 200
    plan = response.json
    assert plan["ruleset"] == "ledger@1" and plan["shipments"][0]["location"] == "ST-1"
    assert {"distance_km", "backlog_ratio", "processing_hours"} <= set(
        plan["shipments"][0]["factors"])
    ranked = plan["explanation"]["lines"][0]["ranked"]
    assert [c["location"] for c in ranked][:2] == ["ST-1", "DC-1"]
    assert ats(client, admin, "A") == 28  # nothing was allocated


def test_an_order_allocates_at_once_and_lowers_availability(stocked, client, admin, order, ctx):
    response = order([{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}])
    assert response.status_code == 201
    placed = response.json
    assert placed["status"] == "created" and placed["ruleset"] == "ledger@1"
    shipped_a = [ln["quantity"] for f in placed["fulfilments"] for ln in f["lines"]
                 if ln["sku"] == "A"]
    assert sum(shipped_a) == 3
    assert ats(client, admin, "A") == 28 - 3 and ats(client, admin, "B") == 4
    with ctx.sessions() as session:
        types = [e.type for e in session.scalars(select(Event).order_by(Event.id))]
    assert types.count("order.placed") == 1 and "fulfilment.requested" in types


def test_the_order_keeps_its_plan_and_explanation(stocked, client, admin, order):
    order_id = order([{"sku": "A", "quantity": 1}]).json["id"]
    read = client.get(f"/v1/orders/{order_id}", headers=admin).json
    assert read["plan"]["shipments"][0]["location"] == "ST-1"
    assert read["explanation"]["ruleset"] == "ledger@1"


def test_the_201_body_is_the_order_as_reading_it_back_shows_it(stocked, client, admin, order):
    placed = order([{"sku": "A", "quantity": 3}, {"sku": "C", "quantity": 2}]).json
    read = client.get(f"/v1/orders/{placed['id']}", headers=admin).json
    assert placed["fulfilments"] and placed["lines"][1]["backordered"] == 1
    assert {k: v for k, v in read.items() if k != "explanation"} == placed


def test_a_web_order_never_takes_units_the_web_was_not_shown(stocked, client, admin, order):
    # C: 3 at ST-1, of which the web may sell 1 (stores keep two back)
    response = order([{"sku": "C", "quantity": 2}])
    assert response.status_code == 201
    line = response.json["lines"][0]
    assert (line["allocated"], line["backordered"]) == (1, 1)
    assert response.json["status"] == "partially_backordered"


def test_the_same_idempotency_key_returns_the_first_response_and_creates_nothing(
        stocked, order, ctx):
    first = order([{"sku": "A", "quantity": 1}], key="retry-1")
    again = order([{"sku": "A", "quantity": 1}], key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"] and count(ctx, OrderRow) == 1


def test_a_reused_key_with_another_body_is_refused(stocked, order, ctx):
    order([{"sku": "A", "quantity": 1}], key="retry-2")
    response = order([{"sku": "A", "quantity": 2}], key="retry-2")
    assert response.status_code == 422 and response.json["code"] == "idempotency_key_reused"
    assert count(ctx, OrderRow) == 1


def test_cancelling_some_lines_releases_their_allocation_at_once(stocked, client, admin, order,
                                                                 ctx):
    order_id = order([{"sku": "A", "quantity": 4}, {"sku": "B", "quantity": 2}]).json["id"]
    response = client.post(f"/v1/orders/{order_id}/cancel", headers=admin,
                           json={"lines": [{"sku": "A", "quantity": 3}]})
    assert response.status_code == 200
    assert response.json["lines"][0]["cancelled"] == 3
    assert ats(client, admin, "A") == 28 - 1 and ats(client, admin, "B") == 3
    assert count(ctx, SettlementRecord) == 1


def test_cancelling_everything_cancels_the_order(stocked, client, admin, order):
    order_id = order([{"sku": "A", "quantity": 4}]).json["id"]
    response = client.post(f"/v1/orders/{order_id}/cancel", headers=admin)
    assert response.json["status"] == "cancelled"
    assert all(f["status"] == "cancelled" for f in response.json["fulfilments"])
    assert ats(client, admin, "A") == 28
    again = client.post(f"/v1/orders/{order_id}/cancel", headers=admin)
    assert again.status_code == 409


def test_cancelling_more_than_is_left_is_refused(stocked, client, admin, order):
    order_id = order([{"sku": "A", "quantity": 2}]).json["id"]
    response = client.post(f"/v1/orders/{order_id}/cancel", headers=admin,
                           json={"lines": [{"sku": "A", "quantity": 5}, {"sku": "Z"}]})
    assert response.status_code == 422
    assert {p["pointer"] for p in response.json["problems"]} == {"/lines/0/quantity",
                                                                 "/lines/1/sku"}


def test_a_pickup_order_is_fulfilled_by_its_store(stocked, client, admin):
    body = {"channel": "store_pickup", "lines": [{"sku": "A", "quantity": 2}],
            "attributes": {"delivery_method": "pickup"}, "pickup_location": "ST-1"}
    response = client.post("/v1/orders", json=body, headers=admin)
    assert response.status_code == 201
    assert [f["location"] for f in response.json["fulfilments"]] == ["ST-1"]


def test_a_pickup_where_there_is_no_counter_is_refused_with_the_reason(stocked, client, admin,
                                                                       ctx):
    body = {"channel": "store_pickup", "lines": [{"sku": "A", "quantity": 1}],
            "attributes": {"delivery_method": "pickup"}, "pickup_location": "ST-2"}
    response = client.post("/v1/orders", json=body, headers=admin)
    assert response.status_code == 409 and "does not offer pickup" in response.json["detail"]
    assert count(ctx, OrderRow) == 0


def test_an_unknown_postal_code_is_a_422_naming_it(stocked, client, admin):
    body = {"channel": "web", "ship_to": {"postal_code": "00000"},
            "lines": [{"sku": "A", "quantity": 1}]}
    response = client.post("/v1/orders", json=body, headers=admin)
    assert response.status_code == 422 and "00000" in response.json["detail"]


def test_bad_lines_are_each_named_and_nothing_is_written(stocked, client, admin, ctx):
    body = {"channel": "web", "lines": [{"sku": "A", "quantity": 0}, {"sku": "NOPE", "quantity": 1},
                                        {"sku": "B", "quantity": 1}, {"sku": "B", "quantity": 2}]}
    response = client.post("/v1/orders", json=body, headers=admin)
    pointers = {p["pointer"] for p in response.json["problems"]}
    assert response.status_code == 422
    assert {"/lines/0/quantity", "/lines/1/sku", "/lines/3/sku", "/ship_to"} <= pointers
    assert count(ctx, OrderRow) == 0


def test_an_order_of_ten_thousand_lines_is_refused_clearly(stocked, client, admin):
    lines = [{"sku": f"S{i}", "quantity": 1} for i in range(10_000)]
    response = client.post("/v1/orders", json={"channel": "web", "lines": lines,
                                               "ship_to": {"lat": 1, "lon": 1}}, headers=admin)
    assert response.status_code == 422 and "10000 lines" in response.json["problems"][0]["message"]


def test_a_channel_key_places_and_reads_only_its_own_channel(stocked, client, headers_for, order):
    web = headers_for("channel:web")
    placed = order([{"sku": "A", "quantity": 1}], headers=web)
    assert placed.status_code == 201
    assert client.get(f"/v1/orders/{placed.json['id']}", headers=web).status_code == 200
    market = headers_for("channel:marketplace")
    assert client.get(f"/v1/orders/{placed.json['id']}", headers=market).status_code == 404
    body = {"channel": "marketplace", "ship_to": {"lat": 1, "lon": 1},
            "lines": [{"sku": "A", "quantity": 1}]}
    assert client.post("/v1/orders", json=body, headers=web).status_code == 403


def test_a_ship_complete_reject_policy_refuses_what_cannot_ship_whole(stocked, client, admin,
                                                                      order, ctx):
    client.post("/v1/rulesets/activate", json={"name": "strict"}, headers=admin)
    response = order([{"sku": "A", "quantity": 25}])
    assert response.status_code == 409 and response.json["code"] == "insufficient_stock"
    assert response.json["problems"][0]["sku"] == "A"
    assert count(ctx, OrderRow) == 0


def test_an_order_takes_the_units_its_checkout_held(stocked, client, admin, order, ctx):
    from tests.support import assert_ledger_consistent

    reservation = client.post("/v1/reservations", headers=admin,
                       json={"channel": "web", "sku": "B", "quantity": 5}).json
    assert ats(client, admin, "B") == 0
    without = order([{"sku": "B", "quantity": 5}])
    assert without.json["lines"][0]["backordered"] == 5  # the reservation protects the units
    response = order([{"sku": "B", "quantity": 5}], reservations=[reservation["id"]])
    assert response.status_code == 201 and response.json["lines"][0]["allocated"] == 5
    released = client.delete(f"/v1/reservations/{reservation['id']}", headers=admin).json
    assert released["status"] == "consumed"
    assert_ledger_consistent(ctx)


def test_a_hold_of_another_channel_or_sku_cannot_be_consumed(stocked, client, admin, order):
    reservation = client.post("/v1/reservations", headers=admin,
                       json={"channel": "marketplace", "sku": "A", "quantity": 1}).json
    response = order([{"sku": "A", "quantity": 1}], reservations=[reservation["id"], "nope"])
    assert response.status_code == 422
    assert {p["pointer"] for p in response.json["problems"]} == {"/reservations/0",
                                                                 "/reservations/1"}
