"""An order keeps its full ship-to address and shows it to the location that ships it; a bad
address gets a readable problem per field (on SQLite and PostgreSQL)."""

import pytest

ADDRESS = {"name": "Ada Lovelace", "address_lines": ["12 W 31st St", "Apt 4"],
           "city": "New York", "region": "NY", "postal_code": "10001", "country": "US",
           "phone": "+1 212 555 0100"}


def place(client, headers, ship_to, channel="web", **extra):
    body = {"channel": channel, "ship_to": ship_to, "lines": [{"sku": "A", "quantity": 1}],
            **extra}
    return client.post("/v1/orders", json=body, headers=headers)


def test_an_order_keeps_its_full_address_with_the_postal_code_geocoded(stocked, client, admin):
    placed = place(client, admin, ADDRESS)
    assert placed.status_code == 201
    ship_to = client.get(f"/v1/orders/{placed.json['id']}", headers=admin).json["ship_to"]
    assert {k: v for k, v in ship_to.items() if k not in ("lat", "lon")} == ADDRESS
    assert ship_to["lat"] == pytest.approx(40.75, abs=0.1)
    assert ship_to["lon"] == pytest.approx(-73.99, abs=0.1)
    assert placed.json["ship_to"] == ship_to


def test_coordinates_sent_with_the_address_are_kept_and_nothing_is_geocoded(stocked, client,
                                                                             admin):
    sent = {**ADDRESS, "postal_code": "SW1A 1AA", "country": "GB", "lat": 40.71, "lon": -74.0}
    placed = place(client, admin, sent)
    assert placed.status_code == 201 and placed.json["ship_to"] == sent


def test_the_shipping_location_sees_the_address_in_its_work_queue_and_event_answers(
        stocked, client, admin, headers_for):
    placed = place(client, admin, ADDRESS).json
    st1 = headers_for("location:ST-1")
    [queued] = client.get("/v1/locations/ST-1/fulfilments", headers=st1).json
    assert queued["order_id"] == placed["id"] and queued["ship_to"] == placed["ship_to"]
    answer = client.post(f"/v1/fulfilments/{queued['id']}/events", headers=st1,
                         json={"type": "accepted"}).json
    assert answer["ship_to"]["name"] == "Ada Lovelace"


def test_a_pickup_order_has_no_ship_to(stocked, client, admin):
    body = {"channel": "store_pickup", "lines": [{"sku": "A", "quantity": 1}],
            "attributes": {"delivery_method": "pickup"}, "pickup_location": "ST-1"}
    placed = client.post("/v1/orders", json=body, headers=admin)
    assert placed.status_code == 201 and placed.json["ship_to"] is None


def test_a_bad_address_gets_a_readable_problem_for_each_field(stocked, client, admin):
    bad = {"name": 5, "address_lines": "12 Main St", "city": "", "country": "usa",
           "phone": "", "lat": 100, "lon": -74.0, "floor": 3}
    response = place(client, admin, bad)
    assert response.status_code == 422
    problems = {p["pointer"]: p["message"] for p in response.json["problems"]}
    assert set(problems) == {"/ship_to/name", "/ship_to/address_lines", "/ship_to/city",
                             "/ship_to/country", "/ship_to/phone", "/ship_to/lat", "/ship_to"}
    assert "floor" in problems["/ship_to"]
    assert not any("any of the given schemas" in m for m in problems.values())


@pytest.mark.parametrize(("ship_to", "pointer", "words"), [
    ({"lat": 40.7}, "/ship_to/lon", "lon is required with lat"),
    ({"lon": -74.0, "postal_code": "10001"}, "/ship_to/lat", "lat is required with lon"),
    ({"name": "Ada", "city": "New York"}, "/ship_to", "lat and lon, or a postal_code"),
])
def test_an_address_that_cannot_be_placed_on_a_map_is_refused_naming_what_is_missing(
        stocked, client, admin, ship_to, pointer, words):
    response = place(client, admin, ship_to)
    assert response.status_code == 422
    assert [(p["pointer"], words in p["message"]) for p in response.json["problems"]] == [
        (pointer, True)]


def test_an_unknown_postal_code_names_the_field(stocked, client, admin):
    response = place(client, admin, {**ADDRESS, "postal_code": "00000"})
    assert response.status_code == 422 and response.json["code"] == "unknown_postal_code"
    assert response.json["problems"][0]["pointer"] == "/ship_to/postal_code"


def test_a_dry_run_plan_takes_the_same_address(stocked, client, admin):
    body = {"channel": "web", "ship_to": ADDRESS, "lines": [{"sku": "A", "quantity": 1}]}
    response = client.post("/v1/sourcing/plan", json=body, headers=admin)
    assert response.status_code == 200
    assert response.json["shipments"][0]["location"] == "ST-1"
