"""Bad transfer requests and events: each a 4xx problem naming the field, nothing written."""

import pytest

from tests.api.transfers.conftest import written

A8 = [{"sku": "A", "quantity": 8}]


@pytest.mark.parametrize(("body", "status", "pointer"), [
    ({"from": "DC-1", "to": "DC-1", "lines": A8}, 422, "/to"),
    ({"from": "DC-1", "to": "NOWHERE", "lines": A8}, 422, "/to"),
    ({"from": "NOWHERE", "to": "ST-2", "lines": A8}, 422, "/from"),
    ({"from": "DC-1", "to": "ST-2", "lines": [{"sku": "ZZZ", "quantity": 1}]}, 422,
     "/lines/0/sku"),
    ({"from": "DC-1", "to": "ST-2", "lines": [{"sku": "A", "quantity": 1},
                                              {"sku": "A", "quantity": 2}]}, 422,
     "/lines/1/sku"),
    ({"from": "DC-1", "to": "ST-2", "lines": [{"sku": "A", "quantity": 0}]}, 422,
     "/lines/0/quantity"),
    ({"from": "DC-1", "to": "ST-2", "lines": []}, 422, "/lines"),
    ({"from": "DC-1", "to": "ST-2", "lines": A8, "colour": "red"}, 422, ""),
    ({"from": "DC-1", "to": "ST-2", "lines": [{"sku": "A", "quantity": 3},
                                              {"sku": "B", "quantity": 6}]}, 409,
     "/lines/1/quantity"),
    ({"from": "ST-1", "to": "ST-2", "lines": [{"sku": "B", "quantity": 1}]}, 409,
     "/lines/0/quantity"),
])
def test_a_bad_transfer_is_a_problem_naming_the_field_and_writes_nothing(
        stocked, client, admin, ctx, body, status, pointer):
    before = written(ctx)
    response = client.post("/v1/transfers", json=body, headers=admin)
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    assert pointer in [p["pointer"] for p in response.json["problems"]]
    assert written(ctx) == before


def test_more_than_is_free_counts_what_orders_and_holds_already_took(
        stocked, client, admin, transfer, ctx):
    hold = client.post("/v1/reservations", headers=admin, json={
        "channel": "web", "sku": "B", "quantity": 2, "location": "DC-1", "ttl_seconds": 600})
    assert hold.status_code == 201, hold.json
    before = written(ctx)
    refused = transfer([{"sku": "B", "quantity": 4}])
    assert refused.status_code == 409
    assert refused.json["problems"] == [{"pointer": "/lines/0/quantity", "sku": "B",
                                         "free": 3, "message": "4 asked, 3 free at DC-1"}]
    assert written(ctx) == before
    assert transfer([{"sku": "B", "quantity": 3}]).status_code == 201


def test_receiving_more_than_was_shipped_is_refused_and_writes_nothing(
        stocked, transfer, report, ctx):
    tid = transfer([{"sku": "A", "quantity": 4}]).json["id"]
    report(tid, "shipped")
    report(tid, "received", lines=[{"sku": "A", "quantity": 3}])
    before = written(ctx)
    over = report(tid, "received", lines=[{"sku": "A", "quantity": 2}])
    assert over.status_code == 409
    assert over.json["problems"][0]["pointer"] == "/lines/0/quantity"
    assert over.json["problems"][0]["in_transit"] == 1
    stranger = report(tid, "received", lines=[{"sku": "C", "quantity": 1}])
    assert stranger.status_code == 422
    assert stranger.json["problems"][0]["pointer"] == "/lines/0/sku"
    assert written(ctx) == before


@pytest.mark.parametrize(("event", "pointer"), [
    ({"type": "shipped"}, "/type"),
    ({"type": "received", "lines": [{"sku": "A", "quantity": 1}]}, "/type"),
    ({"type": "closed"}, "/type"),
    ({"type": "shipped", "lines": [{"sku": "A", "quantity": 1}]}, "/lines"),
    ({"type": "lost"}, "/type"),
    ({"type": "received"}, "/lines"),
])
def test_an_event_out_of_turn_is_refused_and_writes_nothing(stocked, client, admin, transfer,
                                                            report, ctx, event, pointer):
    tid = transfer([{"sku": "A", "quantity": 4}]).json["id"]
    if event["type"] == "shipped" and "lines" not in event:
        assert report(tid, "shipped").status_code == 200  # shipping twice
    before = written(ctx)
    response = client.post(f"/v1/transfers/{tid}/events", json=event, headers=admin)
    assert 400 <= response.status_code < 500, response.json
    assert pointer in [p["pointer"] for p in response.json["problems"]]
    assert written(ctx) == before


def test_the_openapi_document_describes_the_transfer_endpoints(client):
    paths = client.get("/openapi.json").json["paths"]
    create = paths["/v1/transfers"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/transfer_request")
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/transfer")
    event = paths["/v1/transfers/{transfer_id}/events"]["post"]
    assert event["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/transfer_event")
    assert "get" in paths["/v1/transfers/{transfer_id}"]
    assert "post" in paths["/v1/transfers/{transfer_id}/cancel"]


def test_an_unknown_transfer_is_not_found(stocked, client, admin, report):
    assert client.get("/v1/transfers/nope", headers=admin).status_code == 404
    assert report("nope", "shipped").status_code == 404
