"""Who may use a transfer: admins; the source's key creates, ships and cancels; the
destination's key receives and closes; any other location's key never learns it exists (404);
channel keys may not use transfers at all (403)."""

import pytest

from tests.api.transfers.conftest import written

A3 = [{"sku": "A", "quantity": 3}]


@pytest.fixture
def keys(headers_for):
    return {name: headers_for(role) for name, role in {
        "source": "location:DC-1", "destination": "location:ST-2",
        "other": "location:ST-1", "channel": "channel:web"}.items()}


def test_the_source_creates_and_ships_and_the_destination_receives(stocked, client, keys,
                                                                  transfer, report, ctx):
    created = transfer(A3, headers=keys["source"])
    assert created.status_code == 201, created.json
    tid = created.json["id"]
    assert report(tid, "shipped", headers=keys["destination"]).status_code == 403
    assert report(tid, "shipped", headers=keys["source"]).status_code == 200
    received = report(tid, "received", headers=keys["source"], lines=A3)
    assert received.status_code == 403
    assert report(tid, "received", headers=keys["destination"], lines=A3).status_code == 200
    for side in ("source", "destination"):
        seen = client.get(f"/v1/transfers/{tid}", headers=keys[side])
        assert seen.status_code == 200 and seen.json["status"] == "received"


def test_another_location_never_learns_of_the_transfer(stocked, client, keys, transfer,
                                                       report, ctx):
    tid = transfer(A3).json["id"]
    before = written(ctx)
    assert client.get(f"/v1/transfers/{tid}", headers=keys["other"]).status_code == 404
    assert report(tid, "shipped", headers=keys["other"]).status_code == 404
    cancel = client.post(f"/v1/transfers/{tid}/cancel", headers=keys["other"])
    assert cancel.status_code == 404
    assert written(ctx) == before


def test_a_location_key_sends_only_its_own_stock(stocked, keys, transfer, ctx):
    before = written(ctx)
    refused = transfer(A3, headers=keys["destination"])  # DC-1's stock, ST-2's key
    assert refused.status_code == 403
    assert written(ctx) == before


def test_only_the_source_may_cancel(stocked, client, keys, transfer, ctx):
    tid = transfer(A3).json["id"]
    refused = client.post(f"/v1/transfers/{tid}/cancel", headers=keys["destination"])
    assert refused.status_code == 403
    done = client.post(f"/v1/transfers/{tid}/cancel", headers=keys["source"])
    assert done.status_code == 200 and done.json["status"] == "cancelled"


def test_channel_keys_may_not_use_transfers(stocked, client, keys, transfer, report, ctx):
    tid = transfer(A3).json["id"]
    before = written(ctx)
    assert transfer(A3, headers=keys["channel"]).status_code == 403
    assert client.get(f"/v1/transfers/{tid}", headers=keys["channel"]).status_code == 403
    assert report(tid, "shipped", headers=keys["channel"]).status_code == 403
    assert written(ctx) == before


def test_a_request_without_a_key_is_refused(stocked, client):
    assert client.post("/v1/transfers", json={}).status_code == 401
