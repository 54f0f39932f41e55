"""Every console page renders for the keys that may see it, from the API's use cases."""

from __future__ import annotations

import pytest

from tests.api.console.conftest import csrf_of

PAGES = ["/console/", "/console/rules", "/console/rules/default/2", "/console/availability",
         "/console/availability?q=Alp", "/console/availability?sku=A", "/console/sourcing",
         "/console/orders", "/console/operations", "/console/locations/ST-1/queue"]


@pytest.mark.parametrize("path", PAGES)
def test_an_admin_sees_every_page(stocked, signed_in, path):
    response = signed_in("admin").get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_a_page_without_a_session_sends_the_browser_to_sign_in(client):
    response = client.get("/console/rules")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/sign-in?next=/console/rules")


def test_the_availability_explorer_shows_each_channel_and_every_location(stocked, signed_in):
    html = signed_in("admin").get("/console/availability?sku=A").get_data(as_text=True)
    # web: the store keeps 2 of its 10 back (8) and the DC gives 20
    assert 'data-channel="web">28<' in html
    assert "keep-pickup-stock-in-stores" in html


def test_a_version_is_highlighted_and_each_rule_said_in_words(stocked, signed_in):
    html = signed_in("channel:web").get("/console/rules/default/2").get_data(as_text=True)
    assert 'class="highlight"' in html
    assert "web: when location type is store, keep 2 units back" in html
    assert "Start a draft" not in html


def test_a_sourcing_what_if_shows_the_plan_the_candidates_and_a_map(stocked, signed_in):
    client = signed_in("admin")
    token = csrf_of(client.get("/console/sourcing").get_data(as_text=True))
    response = client.post("/console/sourcing", data={
        "csrf": token, "channel": "web", "lat": "40.71", "lon": "-74.0", "cart": "A 2\nB 1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "<svg" in html and "ship-to" in html
    assert "ranked candidates" in html


def test_an_admin_opens_any_locations_queue_by_its_id(stocked, signed_in):
    client = signed_in("admin")
    opened = client.get("/console/queue?location=DC-1")
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith("/console/locations/DC-1/queue")
    assert client.get("/console/queue?location=").status_code == 422


def test_a_rollback_is_offered_only_after_a_switch(stocked, signed_in):
    client = signed_in("admin")
    assert "Roll back" not in client.get("/console/rules").get_data(as_text=True)
    token = csrf_of(client.get("/console/rules").get_data(as_text=True))
    client.post("/console/rules/activate", data={"csrf": token, "ruleset": "default@1"})
    assert "Roll back to default@2" in client.get("/console/rules").get_data(as_text=True)


def test_a_store_rejects_with_a_reason_and_the_units_go_elsewhere(stocked, client, admin,
                                                                  signed_in):
    placed = client.post("/v1/orders", headers=admin, json={
        "channel": "web", "ship_to": {"lat": 40.71, "lon": -74.0}, "order_ref": "reject-1",
        "lines": [{"sku": "A", "quantity": 1}]}).get_json()
    fulfilment = placed["fulfilments"][0]
    assert fulfilment["location"] == "ST-1"
    store = signed_in("location:ST-1")
    token = csrf_of(store.get("/console/locations/ST-1/queue").get_data(as_text=True))
    done = store.post(f"/console/fulfilments/{fulfilment['id']}/events", data={
        "csrf": token, "location": "ST-1", "type": "rejected", "reason": "damaged box"})
    assert done.status_code == 303
    order = client.get(f"/v1/orders/{placed['id']}", headers=admin).get_json()
    by_location = {f["location"]: f["status"] for f in order["fulfilments"]}
    assert by_location == {"ST-1": "rejected", "DC-1": "created"}
    assert "Nothing to do" in store.get("/console/locations/ST-1/queue").get_data(as_text=True)


def test_a_skus_locations_are_shown_a_page_at_a_time_most_available_first(
        stocked, signed_in, monkeypatch):
    from service.api.console import explore_pages
    monkeypatch.setattr(explore_pages, "LOCATIONS_PER_PAGE", 1)
    client = signed_in("admin")
    first = client.get("/console/availability?sku=A&channel=web").get_data(as_text=True)
    # web: DC-1 gives 20, ST-1 8 (2 of its 10 kept back); the total counts both
    assert "<tr><td>DC-1</td>" in first and "<tr><td>ST-1</td>" not in first
    assert "web: 28" in first and "Locations 1–1 of 2" in first and "page=2" in first
    second = client.get("/console/availability?sku=A&channel=web&page=2").get_data(as_text=True)
    assert "<tr><td>ST-1</td>" in second and "<tr><td>DC-1</td>" not in second
    beyond = client.get("/console/availability?sku=A&channel=web&page=99").get_data(as_text=True)
    assert "<tr><td>ST-1</td>" in beyond
