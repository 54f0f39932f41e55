"""What every request goes through: a request id echoed in a header and every problem, one
JSON log line (never the key), no NUL character anywhere, and authentication first."""

import json
import logging

import pytest


def test_a_sane_incoming_request_id_is_echoed_in_the_header_and_the_problem(client):
    response = client.get("/v1/orders/o-1", headers={"X-Request-Id": "shop-42.a"})
    assert response.status_code == 401
    assert response.headers["X-Request-Id"] == "shop-42.a"
    assert response.json["request_id"] == "shop-42.a"


@pytest.mark.parametrize("sent", [None, "", "has spaces", "x" * 129, "é"])
def test_a_missing_or_insane_request_id_is_replaced_by_a_new_one(client, sent):
    headers = {} if sent is None else {"X-Request-Id": sent}
    first = client.get("/v1/nothing", headers=headers)
    second = client.get("/v1/nothing", headers=headers)
    ids = {first.headers["X-Request-Id"], second.headers["X-Request-Id"]}
    assert len(ids) == 2 and sent not in ids
    assert first.json["request_id"] == first.headers["X-Request-Id"]


def test_each_request_is_one_json_log_line_without_the_key(client, admin, caplog):
    caplog.set_level(logging.INFO, logger="oms.requests")
    response = client.get("/v1/feeds", headers=admin | {"X-Request-Id": "r-1"})
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "oms.requests"]
    assert line["method"] == "GET" and line["path"] == "/v1/feeds"
    assert line["status"] == response.status_code == 200
    assert line["request_id"] == "r-1" and line["duration_ms"] >= 0
    key = admin["Authorization"].split()[1]
    # the key id is the key's stored prefix (as in GET /v1/keys), never the whole secret
    assert line["key_id"] and key.startswith(line["key_id"]) and len(line["key_id"]) < len(key)
    assert key not in caplog.text


@pytest.mark.parametrize(("path", "pointer"), [
    ("/v1/availability?channel=web&sku=A%00", "/query/sku"),
    ("/v1/feeds/runs?feed=x%00y", "/query/feed"),
    ("/v1/orders/o%001", "/path/order_id"),
    ("/v1/locations/ST-1%00/fulfilments", "/path/location_id"),
])
def test_a_nul_in_a_query_parameter_or_path_id_is_a_422_naming_it(client, admin, path, pointer):
    response = client.get(path, headers=admin)
    assert response.status_code == 422, response.json
    assert [p["pointer"] for p in response.json["problems"]] == [pointer]


@pytest.mark.parametrize(("path", "body", "pointer"), [
    ("/v1/products", [{"sku": "A\u0000", "name": "x"}], "/0/sku"),
    ("/v1/orders", {"channel": "web", "lines": [{"sku": "A", "quantity": 1}],
                    "order_ref": "r\u0000"}, "/order_ref"),
    ("/v1/reservations", {"channel": "web", "sku": "A", "quantity": 1, "location": "\u0000"},
     "/location"),
    ("/v1/inventory/deltas", {"items": [{"location": "DC-1", "sku": "A\u0000", "on_hand": 1}]},
     "/items/0/sku"),
])
def test_a_nul_in_a_json_body_is_a_422_naming_the_field(small_network, client, admin, path,
                                                          body, pointer):
    response = client.post(path, json=body, headers=admin)
    assert response.status_code == 422, response.json
    assert pointer in {p["pointer"] for p in response.json["problems"]}


@pytest.mark.parametrize(("path", "mimetype"), [
    ("/v1/products", "text/csv"), ("/v1/inventory/deltas", "text/csv"),
])
def test_a_nul_in_a_csv_body_is_a_422_naming_row_field_and_line(small_network, client, admin,
                                                                path, mimetype):
    body = "location,sku,name,on_hand\nDC-1,A,Alpha,1\nDC-1,B\x00,Beta,2\n"
    response = client.post(path, data=body.encode(), headers=admin, content_type=mimetype)
    assert response.status_code == 422, response.json
    [found] = response.json["problems"]
    assert (found["pointer"], found["line"]) == ("/1/sku", 3)


def test_a_nul_in_an_ndjson_body_is_a_422(small_network, client, admin):
    body = '{"sku": "A", "name": "ok"}\n{"sku": "B", "name": "b\\u0000"}\n'
    response = client.post("/v1/products", data=body, headers=admin,
                           content_type="application/x-ndjson")
    assert response.status_code == 422
    assert response.json["problems"][0]["pointer"] == "/1/name"


def test_every_operation_but_the_public_ones_answers_an_anonymous_malformed_request_401(
        app, client):
    """Path ids with a NUL, query parameters out of range, a body that is not JSON: still 401."""
    from service.api.openapi import build_spec

    answers = {}
    for path, operations in build_spec(app)["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "delete"} or operation["security"] == []:
                continue
            url = path
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":  # an int converter routes only digits
                    bad = "1" if parameter["schema"].get("type") == "integer" else "%00"
                    url = url.replace("{" + parameter["name"] + "}", bad)
            response = getattr(client, method)(
                url + "?limit=-1&sku=%00&channel=&detail=x", data="{not json\u0000",
                content_type="application/json")
            answers[f"{method.upper()} {path}"] = response.status_code
    assert len(answers) >= 20
    assert {op: status for op, status in answers.items() if status != 401} == {}


def test_a_key_that_may_not_call_an_admin_operation_hears_403_before_its_input_is_read(
        client, headers_for):
    response = client.get("/v1/feeds/runs?limit=%00", headers=headers_for("channel:web"))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/v1/keys/2147483648"),
    ("GET", "/v1/rulesets/default/2147483648"),
    ("GET", "/v1/rulesets/default/99999999999999999999"),
    # another method's route has the same shape: werkzeug would say 405, no route takes it
    ("PUT", "/v1/rulesets/default/drafts/1549795921856"),
    ("POST", "/v1/rulesets/default/drafts/2147483648"),
])
def test_a_path_integer_beyond_32_bits_is_a_404_not_a_database_error(client, admin, method,
                                                                     path):
    response = client.open(path, method=method, headers=admin)
    assert response.status_code == 404, response.json
    assert response.content_type == "application/problem+json"


def test_a_method_the_path_does_not_take_is_still_a_405_naming_the_ones_it_does(client, admin):
    response = client.put("/v1/rulesets/default/drafts/12/impact", headers=admin)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}
