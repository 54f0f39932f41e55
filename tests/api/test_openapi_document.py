"""The OpenAPI document describes the service as it is: OpenAPI 3.1, an operationId, the
roles, every parameter and header, every status and a schema for every answer, the text
bodies, and links that chain an order from placing to shipping."""

import re

import pytest

SECURED_STATUSES = {"401", "503"}


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_the_document_is_openapi_3_1_and_every_operation_has_a_unique_operation_id(spec):
    assert spec["openapi"] == "3.1.0"
    ids = [op["operationId"] for _, op in operations(spec)]
    assert len(ids) == len(set(ids)) >= 25


def test_only_health_metrics_the_document_and_the_vocabulary_are_open_to_anyone(spec):
    public = {name for name, op in operations(spec) if op["security"] == []}
    assert public == {"GET /healthz", "GET /metrics", "GET /openapi.json",
                      "GET /v1/rules/vocabulary"}


def test_every_secured_operation_names_its_roles_and_answers_401_and_503(spec):
    for name, op in operations(spec):
        if op["security"] == []:
            continue
        [requirement] = op["security"]
        assert requirement["bearer"], name
        assert op["description"].startswith("Roles allowed:"), name
        assert SECURED_STATUSES <= set(op["responses"]), name


def test_a_location_key_is_not_said_to_place_orders(spec):
    place = spec["paths"]["/v1/orders"]["post"]
    assert place["security"] == [{"bearer": ["admin", "channel"]}]
    assert "location" not in place["description"]


def test_every_success_has_a_schema_and_every_problem_is_problem_json(spec):
    for name, op in operations(spec):
        for status, answer in op["responses"].items():
            if "$ref" in answer:
                answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
            if status == "204":  # No Content: nothing to describe
                assert "content" not in answer, name
                continue
            assert answer.get("content"), f"{name} {status} has no schema"
            if status.startswith("4") and status != "414" or status == "503" and (
                    name != "GET /healthz"):
                assert list(answer["content"]) == ["application/problem+json"], name


def test_every_body_answers_400_413_and_422(spec):
    for name, op in operations(spec):
        if "requestBody" in op:
            assert {"400", "413", "422"} <= set(op["responses"]), name


def test_availability_declares_its_query_parameters(spec):
    params = spec["components"]["parameters"]
    declared = [params[p["$ref"].rsplit("/", 1)[1]]
                for p in spec["paths"]["/v1/availability"]["get"]["parameters"]]
    assert {(p["name"], p["required"]) for p in declared if p["in"] == "query"} == {
        ("channel", True), ("sku", True), ("detail", False), ("location", False),
        ("unit", False)}


def test_placing_an_order_declares_idempotency_key_and_the_location_header(spec):
    place = spec["paths"]["/v1/orders"]["post"]
    assert {"$ref": "#/components/parameters/Idempotency-Key"} in place["parameters"]
    assert "Location" in place["responses"]["201"]["headers"]
    assert {"409", "422"} <= set(place["responses"])


def test_the_work_queue_answers_an_array_with_a_link_to_the_next_page(spec):
    queue = spec["paths"]["/v1/locations/{location_id}/fulfilments"]["get"]["responses"]["200"]
    assert queue["content"]["application/json"]["schema"]["type"] == "array"
    assert "Link" in queue["headers"]


@pytest.mark.parametrize("path", ["/v1/products", "/v1/locations", "/v1/inventory/snapshots",
                                  "/v1/inventory/deltas"])
def test_row_bodies_may_be_csv_or_ndjson(spec, path):
    content = spec["paths"][path]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/csv", "application/x-ndjson"}


def test_an_order_needs_a_ship_to_unless_it_is_picked_up(spec):
    [needs] = [part for part in spec["components"]["schemas"]["plan_request"]["allOf"]
               if "if" in part]
    assert needs["then"] == {"required": ["pickup_location"]}
    assert needs["else"] == {"required": ["ship_to"]}


def test_links_chain_an_order_from_placing_to_reading_cancelling_and_shipping(spec):
    ids = {op["operationId"] for _, op in operations(spec)}
    links = spec["paths"]["/v1/orders"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in links.values()}
    assert {"get_order", "cancel_order", "report_event", "location_queue"} <= targets <= ids
    for link in links.values():
        assert all(re.fullmatch(r"\$response\.body#/[a-z_/0-9]+", expression)
                   for expression in link["parameters"].values())


def test_every_integer_parameter_has_bounds(spec):
    for name, op in operations(spec):
        for parameter in op.get("parameters", []):
            if "$ref" in parameter:
                parameter = spec["components"]["parameters"][
                    parameter["$ref"].rsplit("/", 1)[1]]
            schema = parameter["schema"]
            if schema.get("type") == "integer":
                assert schema["maximum"] <= 2**31 - 1 and "minimum" in schema, name


def declared(spec, op):
    params = spec["components"]["parameters"]
    return {params[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
            for p in op.get("parameters", [])}


def test_order_search_declares_every_filter_its_link_and_that_location_keys_get_403(spec):
    search = spec["paths"]["/v1/orders"]["get"]
    assert declared(spec, search) == {
        "status", "channel", "customer_id", "order_ref", "sku", "location", "created_from",
        "created_to", "after", "limit"}
    assert search["security"] == [{"bearer": ["admin", "channel"]}]
    assert {"403", "422"} <= set(search["responses"])
    ok = search["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/order_summary"}}
    assert "Link" in ok["headers"]


def test_a_placed_order_links_to_its_timeline_which_answers_an_array_of_entries(spec):
    links = spec["paths"]["/v1/orders"]["post"]["responses"]["201"]["links"]
    assert links["OrderTimeline"]["operationId"] == "order_timeline"
    timeline = spec["paths"]["/v1/orders/{order_id}/events"]["get"]
    assert timeline["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/timeline_entry"}
    assert "404" in timeline["responses"] and "requestBody" not in timeline


def test_transfers_declare_roles_idempotency_location_and_links_to_what_comes_next(spec):
    create = spec["paths"]["/v1/transfers"]["post"]
    assert create["security"] == [{"bearer": ["admin", "location"]}]
    assert {"$ref": "#/components/parameters/Idempotency-Key"} in create["parameters"]
    created = create["responses"]["201"]
    assert "Location" in created["headers"]
    assert {link["operationId"] for link in created["links"].values()} == {
        "get_transfer", "report_transfer_event", "cancel_transfer"}
    assert {"403", "404", "409", "422"} <= set(create["responses"])
    for path in ("/v1/transfers/{transfer_id}/events", "/v1/transfers/{transfer_id}/cancel"):
        assert {"403", "404", "409"} <= set(spec["paths"][path]["post"]["responses"])


def test_publishing_a_ruleset_answers_201_or_200_with_what_was_published(spec):
    publish = spec["paths"]["/v1/rulesets"]["post"]
    assert publish["security"] == [{"bearer": ["admin"]}]
    assert declared(spec, publish) == {"filename"}
    assert set(publish["requestBody"]["content"]) == {"text/plain"}
    for status in ("201", "200"):
        schema = publish["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ruleset_published"}
    assert "Location" in publish["responses"]["201"]["headers"]
    assert "Location" not in publish["responses"]["200"]["headers"]


def test_revoking_a_key_is_admin_only_takes_an_integer_id_and_answers_204_or_404(spec):
    revoke = spec["paths"]["/v1/keys/{key_id}"]["delete"]
    assert revoke["security"] == [{"bearer": ["admin"]}]
    [key_id] = revoke["parameters"]
    assert key_id["schema"]["type"] == "integer"
    assert {"204", "404"} <= set(revoke["responses"])
    assert "content" not in revoke["responses"]["204"]


def test_the_document_is_valid_openapi_3_1_webhooks_included(spec):
    from openapi_spec_validator import OpenAPIV31SpecValidator

    assert [e.message for e in OpenAPIV31SpecValidator(spec).iter_errors()] == []


def test_every_event_type_of_the_catalogue_is_a_signed_webhook_with_its_schema(spec):
    from service.domain.events import CATALOGUE
    from service.settings import load_schema

    assert list(spec["webhooks"]) == [entry.name for entry in CATALOGUE]
    path_ids = {op["operationId"] for _, op in operations(spec)}
    for entry in CATALOGUE:
        hook = spec["webhooks"][entry.name]["post"]
        assert hook["operationId"] not in path_ids and entry.description == hook["summary"]
        headers = {p["name"]: p for p in hook["parameters"] if p["in"] == "header"}
        assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        assert all(h["required"] for h in headers.values())
        body = hook["requestBody"]["content"]["application/json"]["schema"]
        stored = load_schema(f"events/{entry.name}.schema.json")
        assert body == {k: v for k, v in stored.items() if not k.startswith("$")}
        assert body["properties"]["type"] == {"const": entry.name}
        assert body["properties"]["version"] == {"const": entry.version}
        assert set(body["required"]) == {"type", "version", "timestamp", "data"}
        assert "2XX" in hook["responses"] and "410" in hook["responses"]
        assert hook["security"] == []  # the signature authenticates, not a bearer key
