"""Consistency tokens are a read-replica feature: without database.read_urls (SQLite, or
PostgreSQL alone) no hook runs, writes answer without a token and reads ignore one; the
OpenAPI document states the header on every write and on the availability reads."""

from __future__ import annotations

import pytest

from service.api.consistency import READS, TOKEN_HEADER

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def test_without_read_replicas_writes_answer_without_a_token(small_network, client, admin):
    pushed = client.post("/v1/inventory/deltas", headers=admin, json={
        "items": [{"location": "DC-1", "sku": "A", "on_hand": 4}]})
    assert pushed.status_code == 200 and pushed.json["applied"] == 1
    assert TOKEN_HEADER not in pushed.headers


def test_without_read_replicas_a_read_ignores_a_token_but_refuses_a_malformed_one(
        small_network, client, admin):
    client.post("/v1/inventory/deltas", headers=admin, json={
        "items": [{"location": "DC-1", "sku": "A", "on_hand": 4}]})
    read = client.get("/v1/availability?channel=web&sku=A",
                      headers=admin | {TOKEN_HEADER: "pg:0/1"})
    assert read.status_code == 200 and read.json["items"][0]["sku"] == "A"
    # what /openapi.json says the header is, on every deployment (the fuzzer found it ignored)
    for sent in (client.get("/v1/availability?channel=web&sku=A",
                            headers=admin | {TOKEN_HEADER: "not a token"}),
                 client.post("/v1/availability", json={"channel": "web", "skus": ["A"]},
                             headers=admin | {TOKEN_HEADER: "not a token"})):
        assert sent.status_code == 422
        assert [p["pointer"] for p in sent.json["problems"]] == [
            "/headers/OMS-Consistency-Token"]


def test_without_read_replicas_no_request_hook_is_installed(app, ctx):
    assert ctx.replicas is None
    hooks = [f.__name__ for f in app.after_request_funcs.get(None, [])]
    assert "_token" not in hooks


def test_every_write_operation_documents_the_token_and_no_read_does(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            headers = next(iter(operation["responses"].values())).get("headers", {})
            writes = method.upper() in WRITES and operation["operationId"] not in {
                "post_availability", "plan", "validate_ruleset"}
            assert (TOKEN_HEADER in headers) == writes, f"{method} {path}"


def test_the_availability_reads_take_a_token(spec):
    for method in ("get", "post"):
        parameters = spec["paths"]["/v1/availability"][method]["parameters"]
        assert {"$ref": f"#/components/parameters/{TOKEN_HEADER}"} in parameters


def test_the_posts_that_only_read_are_endpoints_of_the_app(app):
    assert READS <= set(app.view_functions)
