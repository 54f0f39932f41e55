"""A channel counts only the locations that can serve a fulfilment method it sells (the
ruleset's `sells`: web ships, store_pickup is collected in store, app sells both by default),
in the kept ATS, in the per-location detail and in what orders may ask for."""

import pytest

from tests.support import T1, assert_ledger_consistent, snapshot

PICKUP_ONLY = {"id": "ST-3", "name": "Store three", "type": "store", "lat": 40.7,
               "lon": -74.0, "can_ship": False, "can_pickup": True}
NEITHER = {"id": "ST-4", "name": "Store four", "type": "store", "lat": 40.6, "lon": -74.1,
           "can_ship": False, "can_pickup": False}


@pytest.fixture
def policy() -> str:
    return "methods@1"


@pytest.fixture
def stocked(small_network, client, admin, push):
    """A: 10 at DC-1 (ships), 4 at ST-1 (ships, pickup), 3 at ST-2 (ships), 7 at ST-3
    (pickup only), 5 at ST-4 (neither)."""
    assert client.post("/v1/locations", json=[PICKUP_ONLY, NEITHER],
                       headers=admin).status_code == 200
    for location, units in {"DC-1": 10, "ST-1": 4, "ST-2": 3, "ST-3": 7, "ST-4": 5}.items():
        assert push("snapshots", snapshot(location, T1, {"A": units})).status_code == 200
    return small_network


def test_each_channel_counts_the_locations_that_serve_what_it_sells(stocked, ats, ctx):
    assert ats("web", "A") == 10 + 4 + 3
    assert ats("store_pickup", "A") == 4 + 7
    assert ats("app", "A") == 10 + 4 + 3 + 7
    assert_ledger_consistent(ctx)  # the kept figures equal the set-based recompute


def test_the_detail_shows_why_a_location_does_not_count(stocked, client, admin):
    response = client.get("/v1/availability?channel=web&sku=A&detail=locations", headers=admin)
    item, = response.json["items"]
    by_location = {loc["location"]: loc for loc in item["locations"]}
    assert item["available"] == 17
    assert by_location["ST-3"]["excluded"] is True and by_location["ST-3"]["available"] == 0
    assert by_location["ST-3"]["rules"][-1]["rule"] == (
        "(the location serves none of what web sells: ship)")
    assert by_location["DC-1"]["excluded"] is False and by_location["DC-1"]["available"] == 10


def test_stock_moving_at_a_location_a_channel_cannot_use_leaves_its_ats(stocked, push, ats,
                                                                         ctx):
    delta = {"as_of": "2026-03-02T10:00:00Z", "items": [
        {"location": "ST-3", "sku": "A", "adjust": 5}, {"location": "DC-1", "sku": "A",
                                                         "adjust": -1}]}
    assert push("deltas", delta).json["applied"] == 2
    assert (ats("web", "A"), ats("store_pickup", "A"), ats("app", "A")) == (16, 16, 28)
    assert_ledger_consistent(ctx)


def test_a_location_changing_what_it_can_do_moves_the_channels_at_once(stocked, client, admin,
                                                                       ats):
    assert client.post("/v1/locations", json=[{**PICKUP_ONLY, "can_ship": True}],
                       headers=admin).status_code == 200
    assert ats("web", "A") == 17 + 7


def test_an_order_for_a_method_its_channel_does_not_sell_is_refused(stocked, client, admin):
    ship = client.post("/v1/orders", headers=admin, json={
        "channel": "store_pickup", "ship_to": {"lat": 40.7, "lon": -74.0},
        "lines": [{"sku": "A", "quantity": 1}]})
    assert ship.status_code == 422
    assert ship.json["problems"][0]["pointer"] == "/attributes/delivery_method"
    assert "sells pickup only" in ship.json["problems"][0]["message"]
    pickup = {"lines": [{"sku": "A", "quantity": 1}], "pickup_location": "ST-3",
              "attributes": {"delivery_method": "pickup"}}
    refused = client.post("/v1/orders", headers=admin, json={"channel": "web", **pickup})
    assert refused.status_code == 422 and "sells ship only" in refused.json["detail"] + \
        refused.json["problems"][0]["message"]
    placed = client.post("/v1/orders", headers=admin, json={"channel": "store_pickup",
                                                            **pickup})
    assert placed.status_code == 201, placed.json
    assert [f["location"] for f in placed.json["fulfilments"]] == ["ST-3"]
