"""GET /v1/settlements: records in id order after `since`, a page at a time, each with the
file that exported it; admin keys only. On SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from service.services.settlements.exporting import export_pending
from tests.api.settlements.conftest import record_ids


def test_records_are_listed_in_id_order_a_page_at_a_time_with_a_link_to_the_next(
        stocked, settle, client, admin, ctx):
    orders = settle(2)
    ids = record_ids(ctx)

    first = client.get("/v1/settlements?limit=2", headers=admin)
    assert first.status_code == 200
    assert [r["id"] for r in first.json["items"]] == ids[:2]
    assert first.json["next"] == str(ids[1])
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    query = parse_qs(urlsplit(link[1:link.index(">")]).query)
    assert query == {"limit": ["2"], "since": [str(ids[1])]}

    second = client.get(f"/v1/settlements?limit=2&since={ids[1]}", headers=admin)
    assert [r["id"] for r in second.json["items"]] == ids[2:]
    assert second.json["next"] is None and "Link" not in second.headers
    record = first.json["items"][0]
    assert {k: record[k] for k in ("kind", "order_id", "order_ref", "channel", "sku",
                                   "quantity", "amount", "location_id", "export")} == {
        "kind": "shipped", "order_id": orders[0], "order_ref": "R-0", "channel": "web",
        "sku": "A", "quantity": 1, "amount": "12.50", "location_id": "ST-1", "export": None}


def test_an_exported_record_names_its_batch_and_file(stocked, settle, client, admin, ctx,
                                                       config):
    settle(1)
    before = client.get("/v1/settlements", headers=admin).json
    assert before["exported_through"] == 0
    [done] = export_pending(ctx, config)
    settle(1, start=1)  # not exported yet

    page = client.get("/v1/settlements", headers=admin).json
    exports = [r["export"] for r in page["items"]]
    assert [e and (e["batch"], e["file"]) for e in exports] == [
        (done["batch"], done["file"]), (done["batch"], done["file"]), None, None]
    assert page["exported_through"] == done["last_id"]
    assert exports[0]["exported_at"].endswith("Z")


def test_since_skips_what_was_seen_and_an_id_past_the_end_gives_an_empty_page(
        stocked, settle, client, admin, ctx):
    settle(1)
    ids = record_ids(ctx)
    assert [r["id"] for r in client.get(f"/v1/settlements?since={ids[0]}",
                                        headers=admin).json["items"]] == ids[1:]
    empty = client.get("/v1/settlements?since=999999999999999999", headers=admin)
    assert empty.status_code == 200 and empty.json["items"] == []


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "", "2026-01-01T00:00:00Z",
                                   "1234567890123456789", "٣"])
def test_a_since_that_is_no_record_id_is_a_422_naming_the_parameter(ctx, client, admin,
                                                                     since):
    response = client.get("/v1/settlements", query_string={"since": since}, headers=admin)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "validation_failed"
    assert [p["pointer"] for p in response.json["problems"]] == ["/query/since"]


@pytest.mark.parametrize("limit", ["0", "501", "x"])
def test_a_limit_out_of_range_is_a_422(ctx, client, admin, limit):
    response = client.get(f"/v1/settlements?limit={limit}", headers=admin)
    assert response.status_code == 422
    assert [p["pointer"] for p in response.json["problems"]] == ["/query/limit"]


@pytest.mark.parametrize("role", ["channel:web", "location:ST-1"])
def test_channel_and_location_keys_may_not_read_settlements(ctx, client, headers_for, role):
    response = client.get("/v1/settlements", headers=headers_for(role))
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"


def test_without_a_key_settlements_are_refused(ctx, client):
    assert client.get("/v1/settlements").status_code == 401


def test_the_openapi_document_states_the_parameters_roles_and_answers(ctx, client):
    document = client.get("/openapi.json").json
    operation = document["paths"]["/v1/settlements"]["get"]
    parameters = document["components"]["parameters"]
    names = {parameters[p["$ref"].rsplit("/", 1)[1]]["name"] for p in operation["parameters"]}
    assert names == {"since", "limit"}
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert "Link" in operation["responses"]["200"]["headers"]
    assert "admin" in operation["description"]
