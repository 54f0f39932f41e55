"""The OpenAPI document states the returns endpoints whole: roles, the Idempotency-Key and
Location headers, every status, the request and response schemas, and links onward."""


def operation(client, path, method):
    return client.get("/openapi.json").json["paths"][path][method]


def test_opening_a_return_declares_roles_idempotency_location_and_its_statuses(client):
    op = operation(client, "/v1/orders/{order_id}/returns", "post")
    assert op["operationId"] == "open_return"
    assert op["security"] == [{"bearer": ["admin", "channel"]}]
    assert {"201", "400", "401", "404", "409", "413", "422", "503"} <= set(op["responses"])
    created = op["responses"]["201"]
    assert "Location" in created["headers"]
    assert set(created["links"]) == {"GetReturn", "ReceiveReturn"}
    spec = client.get("/openapi.json").json
    names = [spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
             if "$ref" in p else p["name"] for p in op["parameters"]]
    assert "Idempotency-Key" in names


def test_receiving_and_reading_declare_who_may_and_what_they_answer(client):
    receive = operation(client, "/v1/returns/{return_id}/receipts", "post")
    assert receive["security"] == [{"bearer": ["admin", "location"]}]
    assert {"200", "403", "404", "409", "422"} <= set(receive["responses"])
    read = operation(client, "/v1/returns/{return_id}", "get")
    assert read["security"] == [{"bearer": ["admin", "channel", "location"]}]
    assert {"200", "404"} <= set(read["responses"])
