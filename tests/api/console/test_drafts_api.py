"""Ruleset drafts over the API: created from a version, checked, compared, previewed on the
current stock, published as the next version; never published while not valid."""

from __future__ import annotations

STORE_BUFFER = "actions: [{name: hold_back_units, params: {units: 2}}]"


def _draft(client, admin, **body):
    response = client.post("/v1/rulesets/default/drafts", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _bigger_store_buffer(text: str) -> str:
    """The web's store buffer from 2 to 5 units (the first such rule is the web's)."""
    return text.replace(STORE_BUFFER, STORE_BUFFER.replace("2", "5"), 1)


def test_a_draft_starts_from_the_latest_version_numbered_as_the_next(stocked, client, admin):
    draft = _draft(client, admin)
    assert draft["base_version"] == 2
    assert "\nversion: 3\n" in draft["text"]
    assert draft["validation"]["valid"] is True
    assert draft["active"] == "default@2"
    location = f"/v1/rulesets/default/drafts/{draft['id']}"
    assert client.get(location, headers=admin).get_json()["id"] == draft["id"]


def test_a_typo_is_reported_at_its_line_and_column_and_the_draft_cannot_be_published(
        stocked, client, admin):
    draft = _draft(client, admin, from_version=2)
    url = f"/v1/rulesets/default/drafts/{draft['id']}"
    broken = draft["text"].replace("operator: equal_to, value: store", "operator: equals, "
                                   "value: store", 1)
    saved = client.put(url, json={"text": broken}, headers=admin).get_json()
    errors = saved["validation"]["errors"]
    assert saved["validation"]["valid"] is False and errors
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "equals" in row)
    assert errors[0]["line"] == line and errors[0]["col"] > 1
    refused = client.post(f"{url}/publish", headers=admin)
    assert refused.status_code == 422
    assert client.get(f"{url}/impact", headers=admin).status_code == 422
    listed = client.get("/v1/rulesets", headers=admin).get_json()["versions"]
    assert [v["ref"] for v in listed if v["name"] == "default"] == ["default@1", "default@2"]


def test_the_impact_counts_units_skus_and_locations_and_names_the_largest_changes(
        stocked, client, admin):
    draft = _draft(client, admin)
    url = f"/v1/rulesets/default/drafts/{draft['id']}"
    saved = client.put(url, json={"text": _bigger_store_buffer(draft["text"])}, headers=admin)
    assert "units: 2 → 5" in saved.get_json()["diff"]
    impact = client.get(f"{url}/impact", headers=admin).get_json()
    web = next(c for c in impact["channels"] if c["channel"] == "web")
    # ST-1 holds A 10 and C 3: the web sees 8 and 1 there now, 5 and 0 with the draft
    assert web == {"channel": "web", "gained": 0, "lost": 4, "net": -4, "skus": 2,
                   "locations": 1}
    app = next(c for c in impact["channels"] if c["channel"] == "app")
    assert app["net"] == 0 and app["skus"] == 0
    assert impact["largest"] == [
        {"channel": "web", "sku": "A", "before": 28, "after": 25, "change": -3},
        {"channel": "web", "sku": "C", "before": 1, "after": 0, "change": -1}]


def test_a_published_draft_is_the_next_version_and_activating_it_moves_the_figure(
        stocked, client, admin):
    draft = _draft(client, admin)
    url = f"/v1/rulesets/default/drafts/{draft['id']}"
    client.put(url, json={"text": _bigger_store_buffer(draft["text"])}, headers=admin)
    published = client.post(f"{url}/publish", headers=admin)
    assert published.status_code == 201
    assert published.get_json()["ruleset"] == "default@3"
    assert client.post(f"{url}/publish", headers=admin).status_code == 409
    assert client.put(url, json={"text": draft["text"]}, headers=admin).status_code == 409
    activated = client.post("/v1/rulesets/activate", json={"name": "default", "version": 3},
                            headers=admin)
    assert activated.status_code == 200
    figure = client.get("/v1/availability?channel=web&sku=A", headers=admin).get_json()
    assert figure["items"][0]["available"] == 25


def test_only_admin_keys_draft_and_bad_requests_change_nothing(stocked, client, admin,
                                                                headers_for):
    web = headers_for("channel:web")
    assert client.post("/v1/rulesets/default/drafts", json={}, headers=web).status_code == 403
    assert client.post("/v1/rulesets/nope/drafts", json={}, headers=admin).status_code == 404
    bad = client.post("/v1/rulesets/default/drafts", json={"from_version": "2"}, headers=admin)
    assert bad.status_code == 422
    assert client.get("/v1/rulesets/default/drafts/1", headers=web).status_code == 403
    draft = _draft(client, admin)
    url = f"/v1/rulesets/default/drafts/{draft['id']}"
    assert client.put(url, json={"text": ""}, headers=admin).status_code == 422
    renamed = draft["text"].replace("name: default", "name: other", 1)
    saved = client.put(url, json={"text": renamed}, headers=admin).get_json()
    assert saved["validation"]["valid"] is False
    assert any(e["code"] == "draft-renamed" for e in saved["validation"]["errors"])


def test_the_impact_predicts_exactly_what_activating_the_draft_does(stocked, client, admin,
                                                                     ctx):
    from tests.support import T1, snapshot
    for location, counts in {"ST-2": {"A": 4, "B": 7}, "DS-1": {"A": 9, "C": 2}}.items():
        client.post("/v1/inventory/snapshots", json=snapshot(location, T1, counts),
                    headers=admin)
    draft = _draft(client, admin)
    url = f"/v1/rulesets/default/drafts/{draft['id']}"
    text = _bigger_store_buffer(draft["text"]).replace("percent: 20", "percent: 35")
    text = text.replace("  call_center:\n", "  call_center_two:\n")  # a channel gone, one new
    client.put(url, json={"text": text}, headers=admin)
    impact = client.get(f"{url}/impact", headers=admin).get_json()
    with ctx.reading() as uow:
        before = uow.ats.all()
    client.post(f"{url}/publish", headers=admin)
    client.post("/v1/rulesets/activate", json={"name": "default", "version": 3}, headers=admin)
    with ctx.reading() as uow:
        after = uow.ats.all()
    for entry in impact["channels"]:
        channel = entry["channel"]
        moves = [after.get((channel, s), 0) - before.get((channel, s), 0)
                 for s in ("A", "B", "C")]
        assert entry["net"] == sum(moves), channel
        assert entry["gained"] == sum(m for m in moves if m > 0), channel
        assert entry["lost"] == -sum(m for m in moves if m < 0), channel
        assert entry["skus"] == sum(1 for m in moves if m), channel
    assert {c["channel"] for c in impact["channels"]} >= {"call_center", "call_center_two"}
    for change in impact["largest"]:
        key = (change["channel"], change["sku"])
        assert (change["before"], change["after"]) == (before.get(key, 0), after.get(key, 0))


def test_the_impact_replans_the_latest_orders_under_the_draft(stocked, client, admin):
    nyc = {"lat": 40.71, "lon": -74.0}
    for ref, sku, source in (("near-a", "A", "ST-1"), ("dc-b", "B", "DC-1")):
        placed = client.post("/v1/orders", headers=admin, json={
            "channel": "web", "ship_to": nyc, "order_ref": ref,
            "lines": [{"sku": sku, "quantity": 1}]})
        assert placed.status_code == 201
        assert placed.get_json()["fulfilments"][0]["location"] == source
    draft = _draft(client, admin)
    url = f"/v1/rulesets/default/drafts/{draft['id']}"
    stores_out = draft["text"].replace("actions: [{name: add_cost, params: {points: 50}}]",
                                       "actions: [{name: exclude_location}]", 1)
    client.put(url, json={"text": stores_out}, headers=admin)
    replayed = client.get(f"{url}/impact", headers=admin).get_json()["sourcing"]
    assert replayed["replayed"] == 2 and replayed["skipped"] == 0
    assert replayed["moved"] == 1  # A ships from the DC instead; B stays at the DC
    assert replayed["units_short_change"] == 0 and replayed["cost_change"] > 0
    assert [(e["from"], e["to"]) for e in replayed["examples"]] == [(["ST-1"], ["DC-1"])]


def test_a_draft_text_no_database_can_store_is_refused(stocked, client, admin):
    draft = _draft(client, admin)
    url = f"/v1/rulesets/default/drafts/{draft['id']}"
    for text in ("name: default\x00", "name: \ud800"):
        refused = client.put(url, data='{"text": ' + __import__("json").dumps(text) + "}",
                             headers={**admin, "Content-Type": "application/json"})
        assert refused.status_code == 422, refused.get_json()
    assert client.get(url, headers=admin).get_json()["text"] == draft["text"]
    too_big = client.post("/v1/rulesets/default/drafts", json={"from_version": 2**31},
                          headers=admin)
    assert too_big.status_code == 422
