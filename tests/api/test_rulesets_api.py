"""Ruleset governance over HTTP: list, show, validate, publish, activate, vocabulary."""

from service.app import create_app
from service.bootstrap import build_context
from tests.support import FIXTURES, T1, snapshot

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
    assert first.json["key_id"] == admin["Authorization"].split()[1][:10]
    back = client.post("/v1/rulesets/activate", json={"name": "default", "version": 2},
                       headers=admin)
    assert back.json["ruleset"] == "default@2"
    history = client.get("/v1/rulesets", headers=admin).json["activations"]
    assert [h["ruleset"] for h in history[:2]] == ["default@2", "dc-first@1"]
    assert history[0]["key_id"] == admin["Authorization"].split()[1][:10]


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


V3 = (FIXTURES / "rulesets" / "default" / "v2.yaml").read_text().replace(
    "version: 2", "version: 3").replace("percent: 20", "percent: 30")


def test_a_version_published_through_the_api_is_listed_and_can_be_activated(client, admin):
    response = client.post("/v1/rulesets?filename=v3.yaml", data=V3, headers=admin)
    assert response.status_code == 201 and response.json["ruleset"] == "default@3"
    assert response.headers["Location"] == "/v1/rulesets/default/3"
    listing = client.get("/v1/rulesets", headers=admin).json
    published = {v["ref"]: v for v in listing["versions"]}["default@3"]
    assert published["source"] == "api" and published["active"] is False
    assert listing["active"] == "default@2"  # publishing never activates
    assert client.get("/v1/rulesets/default/3", headers=admin).json["text"] == V3
    again = client.post("/v1/rulesets", data=V3, headers=admin)
    assert again.status_code == 200 and again.json["ruleset"] == "default@3"
    done = client.post("/v1/rulesets/activate", json={"name": "default", "version": 3},
                       headers=admin)
    assert done.status_code == 200 and done.json["ruleset"] == "default@3"


def test_an_invalid_version_is_never_published_and_its_problems_have_lines(client, admin):
    text = V3.replace("percent: 30", "percent: 130")
    response = client.post("/v1/rulesets", data=text, headers=admin)
    assert response.status_code == 422
    [found] = response.json["problems"]
    assert found["code"] == "percent-range" and found["line"] > 1
    refs = {v["ref"] for v in client.get("/v1/rulesets", headers=admin).json["versions"]}
    assert "default@3" not in refs


def test_a_published_version_cannot_be_published_again_with_other_text(client, admin):
    text = (FIXTURES / "rulesets" / "default" / "v2.yaml").read_text().replace(
        "percent: 20", "percent: 25")
    response = client.post("/v1/rulesets", data=text, headers=admin)
    assert response.status_code == 422
    assert response.json["problems"][0]["code"] == "version-changed"
    assert "3 is the next free one" in response.json["problems"][0]["message"]


def test_validate_checks_the_file_name_and_the_published_versions(client, admin):
    copied = (FIXTURES / "rulesets" / "default" / "v2.yaml").read_text().replace(
        "percent: 20", "percent: 30")
    body = client.post("/v1/rulesets/validate?filename=v3.yaml", data=copied,
                       headers=admin).json
    assert body["valid"] is False
    [error] = body["errors"]
    assert error["code"] == "version-file-name" and error["line"] > 1
    body = client.post("/v1/rulesets/validate?filename=v2.yaml", data=copied,
                       headers=admin).json
    assert [e["code"] for e in body["errors"]] == ["version-changed"]


def test_location_keys_may_not_read_rulesets_and_channel_keys_see_no_operations(
        client, headers_for):
    location = headers_for("location:ST-1")
    for path in ("/v1/rulesets", "/v1/rulesets/default/2"):
        assert client.get(path, headers=location).status_code == 403
    assert client.post("/v1/rulesets/validate", data=V3, headers=location).status_code == 403
    body = client.get("/v1/rulesets", headers=headers_for("channel:web")).json
    assert body["active"] == "default@2" and "activations" not in body
    assert "load_errors" not in body and "published_by" not in body["versions"][0]


def test_only_admins_publish(client, headers_for):
    response = client.post("/v1/rulesets", data=V3, headers=headers_for("channel:web"))
    assert response.status_code == 403


def test_another_process_answers_a_switch_at_once_with_and_without_detail(
        small_network, client, admin, settings, db_engine):
    other = create_app(ctx=build_context(settings, engine=db_engine)).test_client()
    assert client.post("/v1/inventory/snapshots", json=snapshot("DC-1", T1, {"A": 20}),
                       headers=admin).status_code == 200
    plain = "/v1/availability?channel=marketplace&sku=A"
    detail = plain + "&detail=locations"
    assert other.get(detail, headers=admin).json["ruleset"] == "default@2"  # now cached there
    assert client.post("/v1/rulesets", data=V3, headers=admin).status_code == 201
    assert client.post("/v1/rulesets/activate", json={"name": "default", "version": 3},
                       headers=admin).status_code == 200
    answers = [other.get(path, headers=admin).json for path in (plain, detail)]
    assert [(a["ruleset"], a["items"][0]["available"]) for a in answers] == [
        ("default@3", 14), ("default@3", 14)]  # 20 less 30 %
