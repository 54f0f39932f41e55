"""Ruleset governance over HTTP: list, show, validate, activate, vocabulary."""

BAD = """name: shop
version: 1
channels:
  web:
    rules:
      - name: r1
        conditions: {all: [{name: colour, operator: equal_to, value: red}]}
        actions: [{name: hold_back_units, params: {units: "two"}}]
      - name: r1
        conditions: {all: [{name: price, operator: matches_regex, value: 1}]}
        actions: [{name: vanish}]
"""


def test_listing_shows_versions_the_active_one_and_history(client, admin):
    body = client.get("/v1/rulesets", headers=admin).json
    refs = {v["ref"] for v in body["versions"]}
    assert {"default@1", "default@2", "dc-first@1"} <= refs
    assert body["active"] == "default@2" and body["load_errors"] == []
    assert body["activations"][0]["activated_by"] == "system:startup"


def test_a_version_can_be_shown(client, admin):
    body = client.get("/v1/rulesets/default/1", headers=admin).json
    assert body["ref"] == "default@1" and "channels" in body["document"]
    assert client.get("/v1/rulesets/default/99", headers=admin).status_code == 404


def test_validate_reports_every_problem_with_line_and_pointer(client, admin):
    body = client.post("/v1/rulesets/validate", data=BAD, headers=admin).json
    assert body["valid"] is False
    messages = " | ".join(e["message"] for e in body["errors"])
    for expected in ("colour", "units", "duplicate", "vanish"):
        assert expected in messages
    first = body["errors"][0]
    assert first["line"] >= 1 and first["col"] >= 1 and first["pointer"].startswith("/")


def test_validate_accepts_a_good_file_without_loading_it(client, admin):
    text = "name: brand-new\nversion: 1\n"
    body = client.post("/v1/rulesets/validate", data=text, headers=admin).json
    assert body["valid"] is True and body["ruleset"] == "brand-new@1"
    listing = client.get("/v1/rulesets", headers=admin).json
    assert "brand-new@1" not in {v["ref"] for v in listing["versions"]}


def test_activation_records_who_when_from_and_to_and_rolls_back(client, admin):
    first = client.post("/v1/rulesets/activate", json={"name": "dc-first"}, headers=admin)
    assert first.status_code == 200
    assert first.json["ruleset"] == "dc-first@1" and first.json["previous"] == "default@2"
    assert first.json["activated_by"] == "admin"
    back = client.post("/v1/rulesets/activate", json={"name": "default", "version": 2},
                       headers=admin)
    assert back.json["ruleset"] == "default@2"
    history = client.get("/v1/rulesets", headers=admin).json["activations"]
    assert [h["ruleset"] for h in history[:2]] == ["default@2", "dc-first@1"]


def test_activating_an_unknown_version_changes_nothing(client, admin):
    response = client.post("/v1/rulesets/activate", json={"name": "default", "version": 9},
                           headers=admin)
    assert response.status_code == 404
    assert client.get("/v1/rulesets", headers=admin).json["active"] == "default@2"


def test_only_admins_activate(client, headers_for):
    response = client.post("/v1/rulesets/activate", json={"name": "default"},
                           headers=headers_for("channel:web"))
    assert response.status_code == 403


def test_a_bad_activation_body_names_each_field(client, admin):
    response = client.post("/v1/rulesets/activate", json={"version": "two"}, headers=admin)
    assert {p["pointer"] for p in response.json["problems"]} == {"/name", "/version"}


def test_the_vocabulary_lists_variables_operators_and_actions(client):
    body = client.get("/v1/rules/vocabulary").json
    channel = body["channel"]
    names = {v["name"] for v in channel["variables"]}
    assert {"location_type", "available", "tags", "channel"} <= names
    assert {a["name"] for a in channel["actions"]} >= {"hold_back_units", "exclude_location"}
    assert "numeric" in channel["variable_type_operators"]
