"""Finding orders (GET /v1/orders: filters, newest first, cursor pages, role scope) and an
order's timeline (GET /v1/orders/{id}/events), over HTTP on SQLite and PostgreSQL."""

from urllib.parse import quote

import pytest

from service.services.access.keys import create_key, list_keys


@pytest.fixture
def placed(stocked, order, client, admin, headers_for):
    """Five orders, oldest first: web A, web B (customer c-2), web A+C, marketplace A,
    web A (cancelled)."""
    market = headers_for("channel:marketplace")
    made = [order([{"sku": "A", "quantity": 1}], order_ref="W-1", customer_id="c-1"),
            order([{"sku": "B", "quantity": 1}], order_ref="W-2", customer_id="c-2"),
            order([{"sku": "A", "quantity": 1}, {"sku": "C", "quantity": 1}], order_ref="W-3"),
            order([{"sku": "A", "quantity": 1}], order_ref="A-1", headers=market,
                  channel="marketplace"),
            order([{"sku": "A", "quantity": 1}], order_ref="W-4")]
    assert [r.status_code for r in made] == [201] * 5
    ids = [r.json["id"] for r in made]
    assert client.post(f"/v1/orders/{ids[4]}/cancel", json={},
                       headers=admin).status_code == 200
    return ids


def found(client, headers, query=""):
    response = client.get(f"/v1/orders{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [o["id"] for o in response.json]


def test_orders_are_listed_newest_first_with_their_summary(placed, client, admin):
    response = client.get("/v1/orders", headers=admin)
    assert [o["id"] for o in response.json] == placed[::-1]
    newest = response.json[0]
    assert newest["status"] == "cancelled" and newest["order_ref"] == "W-4"
    assert set(newest) == {"id", "channel", "order_ref", "customer_id", "status",
                           "delivery_method", "ruleset", "created_at", "updated_at"}


def test_each_filter_narrows_the_list(placed, client, admin):
    assert found(client, admin, "?channel=marketplace") == [placed[3]]
    assert found(client, admin, "?status=cancelled") == [placed[4]]
    assert found(client, admin, "?channel=web&status=created") == [placed[2], placed[1],
                                                                      placed[0]]
    assert found(client, admin, "?customer_id=c-2") == [placed[1]]
    assert found(client, admin, "?order_ref=W-3") == [placed[2]]
    assert found(client, admin, "?sku=C") == [placed[2]]
    assert found(client, admin, "?sku=B&location=DC-1") == [placed[1]]
    assert found(client, admin, "?location=ST-1&channel=web") == [placed[4], placed[2], placed[0]]
    assert found(client, admin, "?status=shipped") == []


def test_a_time_range_includes_its_start_and_excludes_its_end(placed, client, admin):
    third = client.get(f"/v1/orders/{placed[2]}", headers=admin).json["created_at"]
    fourth = client.get(f"/v1/orders/{placed[3]}", headers=admin).json["created_at"]
    query = f"?created_from={quote(third)}&created_to={quote(fourth)}"
    assert found(client, admin, query) == [placed[2]]
    assert found(client, admin, f"?created_to={quote(third)}") == [placed[1], placed[0]]


def test_pages_follow_the_link_until_the_last_order(placed, client, admin):
    seen, url = [], "/v1/orders?channel=web&limit=2"
    while url:
        response = client.get(url, headers=admin)
        seen += [o["id"] for o in response.json]
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert seen == [placed[4], placed[2], placed[1], placed[0]]


def test_a_channel_key_finds_only_its_channel_and_a_location_key_may_not_search(
        placed, client, headers_for):
    web = headers_for("channel:web")
    assert found(client, web) == [placed[4], placed[2], placed[1], placed[0]]
    assert found(client, web, "?order_ref=A-1") == []
    assert client.get("/v1/orders?channel=marketplace", headers=web).status_code == 403
    assert client.get("/v1/orders", headers=headers_for("location:ST-1")).status_code == 403
    assert client.get("/v1/orders").status_code == 401


def test_bad_searches_name_every_problem(placed, client, admin):
    response = client.get("/v1/orders?status=lost&created_from=yesterday&limit=0&sku=",
                          headers=admin)
    assert response.status_code == 422
    assert {p["pointer"] for p in response.json["problems"]} == {
        "/query/status", "/query/created_from", "/query/limit", "/query/sku"}
    response = client.get("/v1/orders?status=lost&created_from=2026-01-01T00:00:00",
                          headers=admin)
    assert {p["pointer"] for p in response.json["problems"]} == {"/query/status",
                                                               "/query/created_from"}
    response = client.get("/v1/orders?after=no-such-order", headers=admin)
    assert response.status_code == 422
    assert response.json["problems"][0]["pointer"] == "/query/after"


def test_a_summary_shows_the_same_times_and_fields_as_the_order_itself(placed, client, admin):
    listed = {o["id"]: o for o in client.get("/v1/orders", headers=admin).json}
    for order_id in placed:
        whole = client.get(f"/v1/orders/{order_id}", headers=admin).json
        summary = listed[order_id]
        assert {name: summary[name] for name in summary if name != "updated_at"} == {
            name: whole[name] for name in summary if name != "updated_at"}
        assert summary["created_at"].endswith("+00:00")
        assert summary["updated_at"] >= summary["created_at"]


def test_a_revoked_key_this_process_remembers_is_refused_by_the_next_search(
        placed, ctx, client, admin):
    key = create_key(ctx, "channel:web")
    sent = {"Authorization": f"Bearer {key}"}
    for _ in range(2):  # the second search takes the key's role from this process's memory
        assert client.get("/v1/orders?status=created", headers=sent).status_code == 200
    number, = [k["id"] for k in list_keys(ctx) if key.startswith(k["prefix"])]
    assert client.delete(f"/v1/keys/{number}", headers=admin).status_code == 204
    for query in ("?status=created",          # a page
                  "?status=shipped",          # an empty page: its statement read no version
                  "?status=lost&limit=0",     # a 422 otherwise
                  "?channel=marketplace",     # a 403 otherwise
                  "?after=no-such-order",     # an unknown cursor otherwise
                  "?sku=A%00"):               # a NUL character otherwise
        refused = client.get(f"/v1/orders{query}", headers=sent)
        assert refused.status_code == 401, (query, refused.json)
        assert "revoked" in refused.json["detail"]
    assert found(client, admin, "?channel=web&status=created") == [placed[2], placed[1],
                                                                   placed[0]]


def test_the_timeline_shows_the_order_and_its_fulfilments_events_oldest_first(
        stocked, order, client, admin, headers_for):
    placed = order([{"sku": "A", "quantity": 2}]).json
    [fulfilment] = placed["fulfilments"]
    for step in ("accepted", "picked"):
        assert client.post(f"/v1/fulfilments/{fulfilment['id']}/events", json={"type": step},
                           headers=admin).status_code == 200
    client.post(f"/v1/orders/{placed['id']}/cancel", json={"reason": "changed mind"},
                headers=admin)
    response = client.get(f"/v1/orders/{placed['id']}/events", headers=admin)
    assert response.status_code == 200
    types = [e["type"] for e in response.json]
    assert types == ["order.placed", "fulfilment.requested", "order.allocated",
                     "fulfilment.accepted", "order.status_changed", "fulfilment.picked",
                     "fulfilment.cancelled", "order.cancelled", "order.status_changed"]
    assert [e["id"] for e in response.json] == sorted(e["id"] for e in response.json)
    assert response.json[-2]["data"]["reason"] == "changed mind"
    assert response.json[-1]["data"]["previous_status"] == "in_progress"
    assert {e["version"] for e in response.json} == {1}
    assert response.json[3]["subject"] == {"type": "fulfilment", "id": fulfilment["id"]}
    other = order([{"sku": "A", "quantity": 1}]).json["id"]
    assert all(e["subject"]["id"] != other
               for e in client.get(f"/v1/orders/{placed['id']}/events", headers=admin).json)


def test_the_timeline_is_seen_only_by_keys_that_may_see_the_order(
        stocked, order, client, headers_for):
    placed = order([{"sku": "A", "quantity": 1}]).json
    url = f"/v1/orders/{placed['id']}/events"
    assert client.get(url, headers=headers_for("channel:web")).status_code == 200
    assert client.get(url, headers=headers_for("channel:marketplace")).status_code == 404
    assert client.get("/v1/orders/nope/events", headers=headers_for("admin")).status_code == 404
