"""Editing an order through the API (`POST /v1/orders/{id}/edits`), on SQLite and PostgreSQL:
quantities down and up, lines added and removed, a new ship-to; only units not yet picked
move, all or nothing, the ledger audited after each step.

The `stocked` network: A is 10 at ST-1 (web sees 8) and 20 at DC-1; B is 5 at DC-1; C is 3
at ST-1.
"""

from sqlalchemy import func, select

from service.store.models import Event
from tests.api.orders.test_backorder_release import delta, run_job
from tests.api.orders.test_rejections import position, read
from tests.support import assert_ledger_consistent

CHICAGO = {"name": "J. Doe", "address_lines": ["1 Wacker Dr"], "city": "Chicago",
           "postal_code": "60601", "country": "US", "lat": 41.88, "lon": -87.63}


def edit(client, headers, order_id, key=None, **body):
    sent = dict(headers)
    if key:
        sent["Idempotency-Key"] = key
    return client.post(f"/v1/orders/{order_id}/edits", headers=sent, json=body)


def step(client, headers, fulfilment_id, type_):
    response = client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=headers,
                           json={"type": type_})
    assert response.status_code == 200, response.json
    return response


def written(ctx) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(Event))


def line(order_json, sku):
    return next(ln for ln in order_json["lines"] if ln["sku"] == sku)


def test_the_journey_backorder_release_edits_and_shipping_keep_the_ledger(
        stocked, client, admin, order, ctx):
    placed = order([{"sku": "B", "quantity": 8}])
    order_id = placed.json["id"]
    assert line(placed.json, "B")["backordered"] == 3
    assert_ledger_consistent(ctx)

    delta(client, admin, "B", 9)  # stock arrives; the job releases the three
    run_job(ctx, "orders.backorders")
    assert line(read(client, admin, order_id), "B")["backordered"] == 0
    assert position(ctx, "DC-1", "B") == (9, 8)
    assert_ledger_consistent(ctx)

    down = edit(client, admin, order_id, lines=[{"sku": "B", "quantity": 6}])
    assert down.status_code == 200, down.json
    assert (line(down.json, "B")["allocated"], line(down.json, "B")["cancelled"]) == (6, 2)
    assert position(ctx, "DC-1", "B") == (9, 6)
    assert_ledger_consistent(ctx)

    up = edit(client, admin, order_id, lines=[{"sku": "B", "quantity": 7},
                                              {"sku": "A", "quantity": 2, "unit_price": 4}])
    assert up.status_code == 200, up.json
    assert line(up.json, "B")["allocated"] == 7 and line(up.json, "A")["allocated"] == 2
    assert position(ctx, "DC-1", "B") == (9, 7)
    assert_ledger_consistent(ctx)

    moved = edit(client, admin, order_id, ship_to=CHICAGO)
    assert moved.status_code == 200, moved.json
    after = read(client, admin, order_id)
    assert after["ship_to"]["city"] == "Chicago"
    edits = after["explanation"]["edits"]
    assert len(edits) == 3 and edits[-1]["ship_to"]["to"]["city"] == "Chicago"
    queue = client.get("/v1/locations/DC-1/fulfilments", headers=admin).json
    assert {f["ship_to"]["city"] for f in queue} == {"Chicago"}

    for fulfilment in after["fulfilments"]:
        if fulfilment["status"] == "created":
            for type_ in ("accepted", "picked", "packed", "shipped"):
                step(client, admin, fulfilment["id"], type_)
    shipped = read(client, admin, order_id)
    assert shipped["status"] == "shipped"
    assert position(ctx, "DC-1", "B") == (2, 0)
    assert_ledger_consistent(ctx)
    events = written(ctx)
    refused = edit(client, admin, order_id, lines=[{"sku": "B", "quantity": 1}])
    assert refused.status_code == 409, refused.json
    assert refused.json["problems"][0]["pointer"] == "/lines/0/quantity"
    assert "7 units of B already picked or shipped" in refused.json["problems"][0]["message"]
    assert written(ctx) == events and read(client, admin, order_id) == shipped
    with ctx.sessions() as session:
        types = session.scalars(select(Event.type).where(Event.type == "order.edited")).all()
    assert len(types) == 3


def test_a_line_removed_frees_its_units_and_closes_its_fulfilment(
        stocked, client, admin, order, ctx):
    placed = order([{"sku": "B", "quantity": 2}, {"sku": "A", "quantity": 3}])
    order_id = placed.json["id"]

    removed = edit(client, admin, order_id, lines=[{"sku": "B", "quantity": 0}])

    assert removed.status_code == 200, removed.json
    assert line(removed.json, "B")["cancelled"] == 2
    assert position(ctx, "DC-1", "B") == (5, 0)
    assert_ledger_consistent(ctx)


def test_units_on_a_picked_fulfilment_cannot_move_and_nothing_is_written(
        stocked, client, admin, order, ctx):
    placed = order([{"sku": "B", "quantity": 4}])
    order_id, fulfilment_id = placed.json["id"], placed.json["fulfilments"][0]["id"]
    step(client, admin, fulfilment_id, "accepted")
    step(client, admin, fulfilment_id, "picked")
    before, events = read(client, admin, order_id), written(ctx)

    response = edit(client, admin, order_id, lines=[{"sku": "B", "quantity": 2}])

    assert response.status_code == 409
    assert response.json["problems"] == [{
        "pointer": "/lines/0/quantity", "message": "4 units of B already picked or shipped",
        "sku": "B", "fixed": 4}]
    assert read(client, admin, order_id) == before and written(ctx) == events
    assert position(ctx, "DC-1", "B") == (5, 4)


def test_an_accepted_fulfilment_still_moves(stocked, client, admin, order, ctx):
    placed = order([{"sku": "B", "quantity": 4}])
    step(client, admin, placed.json["fulfilments"][0]["id"], "accepted")

    response = edit(client, admin, placed.json["id"], lines=[{"sku": "B", "quantity": 1}])

    assert response.status_code == 200 and line(response.json, "B")["allocated"] == 1
    assert position(ctx, "DC-1", "B") == (5, 1)
    assert_ledger_consistent(ctx)


def test_bad_edits_are_422_naming_the_field_and_write_nothing(stocked, client, admin, order,
                                                              ctx):
    order_id = order([{"sku": "B", "quantity": 2}]).json["id"]
    before, events = read(client, admin, order_id), written(ctx)
    cases = [
        ({"lines": [{"sku": "B", "quantity": -1}]}, "/lines/0/quantity"),
        ({"lines": [{"sku": "B"}]}, "/lines/0"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "/lines/0/sku"),
        ({"lines": [{"sku": "A", "quantity": 0}]}, "/lines/0/quantity"),
        ({"lines": [{"sku": "B", "quantity": 1}, {"sku": "B", "quantity": 2}]}, "/lines/1/sku"),
        ({"lines": [{"sku": "B", "quantity": 2}]}, "/lines"),
        ({"ship_to": {"city": "Nowhere"}}, "/ship_to"),
        ({}, ""),
    ]
    for body, pointer in cases:
        response = client.post(f"/v1/orders/{order_id}/edits", headers=admin, json=body)
        assert response.status_code == 422, (body, response.json)
        assert pointer in [p["pointer"] for p in response.json["problems"]], (body, response.json)
    assert read(client, admin, order_id) == before and written(ctx) == events


def test_more_than_stock_allows_is_a_409_for_an_order_that_does_not_backorder(
        stocked, client, admin, order, ctx):
    order_id = order([{"sku": "B", "quantity": 2}], on_short="reject").json["id"]
    before, events = read(client, admin, order_id), written(ctx)

    response = edit(client, admin, order_id, lines=[{"sku": "B", "quantity": 9}])

    assert response.status_code == 409
    assert response.json["problems"][0]["pointer"] == "/lines/0/quantity"
    assert read(client, admin, order_id) == before and written(ctx) == events
    assert position(ctx, "DC-1", "B") == (5, 2)


def test_an_order_that_backorders_waits_for_what_an_edit_adds_beyond_stock(
        stocked, client, admin, order, ctx):
    order_id = order([{"sku": "B", "quantity": 2}]).json["id"]

    response = edit(client, admin, order_id, lines=[{"sku": "B", "quantity": 9}])

    assert response.status_code == 200
    assert (line(response.json, "B")["allocated"], line(response.json, "B")["backordered"]) \
        == (5, 4)
    assert response.json["status"] == "partially_backordered"
    assert_ledger_consistent(ctx)


def test_an_edit_sent_again_with_its_key_is_applied_once(stocked, client, admin, order, ctx):
    order_id = order([{"sku": "B", "quantity": 2}]).json["id"]
    first = edit(client, admin, order_id, key="e-1", lines=[{"sku": "B", "quantity": 3}])
    again = edit(client, admin, order_id, key="e-1", lines=[{"sku": "B", "quantity": 3}])
    other = edit(client, admin, order_id, key="e-1", lines=[{"sku": "B", "quantity": 4}])

    assert first.status_code == 200 and again.status_code == 200
    assert again.json["idempotent_replay"] is True
    assert line(again.json, "B") == line(first.json, "B")
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert len(read(client, admin, order_id)["explanation"]["edits"]) == 1
    assert position(ctx, "DC-1", "B") == (5, 3)


def test_edits_are_scoped_as_orders_are(stocked, client, admin, order, headers_for):
    order_id = order([{"sku": "B", "quantity": 2}]).json["id"]
    body = {"lines": [{"sku": "B", "quantity": 1}]}

    other_channel = edit(client, headers_for("channel:marketplace"), order_id, **body)
    a_location = edit(client, headers_for("location:DC-1"), order_id, **body)
    its_channel = edit(client, headers_for("channel:web"), order_id, **body)

    assert other_channel.status_code == 404 and a_location.status_code in (403, 404)
    assert its_channel.status_code == 200


def test_the_openapi_document_describes_the_edit_endpoint(client):
    edit_doc = client.get("/openapi.json").json["paths"]["/v1/orders/{order_id}/edits"]["post"]

    assert edit_doc["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/order_edit")
    assert edit_doc["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/order")


def test_a_new_ship_to_replans_the_unpicked_units_where_sourcing_changes(
        spread, client, admin, order, ctx):
    placed = order([{"sku": "A", "quantity": 4}])  # New York: ST-1
    order_id, at_st1 = placed.json["id"], placed.json["fulfilments"][0]["id"]
    assert placed.json["fulfilments"][0]["location"] == "ST-1"

    moved = edit(client, admin, order_id, ship_to=CHICAGO)

    assert moved.status_code == 200, moved.json
    after = read(client, admin, order_id)
    [old, new] = after["fulfilments"]
    assert (old["id"], old["status"], old["reason"]) == (at_st1, "cancelled", "ship_to changed")
    assert (new["location"], new["lines"][0]["quantity"]) == ("ST-2", 4)
    decision = after["explanation"]["edits"][0]["ship_to"]
    assert decision["replanned"] is True and decision["shipments"][0]["location"] == "ST-2"
    assert position(ctx, "ST-1")[1] == 0 and position(ctx, "ST-2")[1] == 4
    assert line(after, "A")["cancelled"] == 0 and after["status"] == "created"
    assert_ledger_consistent(ctx)


def test_a_new_ship_to_served_by_the_same_locations_moves_nothing(
        spread, client, admin, order, ctx):
    placed = order([{"sku": "A", "quantity": 4}])
    nearby = {"lat": 40.75, "lon": -73.99, "city": "New York"}

    moved = edit(client, admin, placed.json["id"], ship_to=nearby)

    assert moved.status_code == 200, moved.json
    after = read(client, admin, placed.json["id"])
    [kept] = after["fulfilments"]
    assert (kept["id"], kept["status"], kept["location"]) == (
        placed.json["fulfilments"][0]["id"], "created", "ST-1")
    assert after["explanation"]["edits"][0]["ship_to"]["replanned"] is False
    assert after["ship_to"]["lat"] == 40.75
    assert position(ctx, "ST-1")[1] == 4
    assert_ledger_consistent(ctx)


def test_picked_units_stay_where_they_are_when_the_ship_to_changes(
        spread, client, admin, order, ctx):
    placed = order([{"sku": "A", "quantity": 4}])
    for type_ in ("accepted", "picked"):
        step(client, admin, placed.json["fulfilments"][0]["id"], type_)

    moved = edit(client, admin, placed.json["id"], ship_to=CHICAGO)

    assert moved.status_code == 200, moved.json
    after = read(client, admin, placed.json["id"])
    assert [f["status"] for f in after["fulfilments"]] == ["picked"]
    assert after["explanation"]["edits"][0]["ship_to"]["replanned"] is False
    assert after["ship_to"]["city"] == "Chicago"
    assert_ledger_consistent(ctx)
