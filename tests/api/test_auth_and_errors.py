"""Authentication, roles and problem+json for every error."""

from sqlalchemy import select

from service.store.models import ApiKey

PRODUCT = {"sku": "SKU-1", "name": "Kettle", "category": "home", "price": 20}


def test_a_request_without_a_key_is_401_problem_json(client):
    response = client.post("/v1/products", json=[PRODUCT])
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_key_is_401(client):
    response = client.post(
        "/v1/products", json=[PRODUCT], headers={"Authorization": "Bearer oms_not-a-key"}
    )
    assert response.status_code == 401 and "unknown" in response.json["detail"]


def test_a_channel_key_may_not_write_master_data(client, headers_for):
    response = client.post("/v1/products", json=[PRODUCT], headers=headers_for("channel:web"))
    assert response.status_code == 403 and response.json["code"] == "forbidden"


def test_keys_are_stored_as_hashes_only(ctx, admin):
    key = admin["Authorization"].split()[1]
    with ctx.sessions() as session:
        stored = session.scalars(select(ApiKey)).all()
    assert len(stored) == 1 and stored[0].key_hash != key and key not in stored[0].key_hash
    assert stored[0].role == "admin"


def test_an_unknown_path_is_a_404_problem(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_methods(client):
    response = client.put("/v1/products")
    assert response.status_code == 405 and response.json["status"] == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_a_non_json_body_is_a_400_naming_the_problem(client, admin):
    response = client.post(
        "/v1/products", data="{not json", headers=admin, content_type="application/json"
    )
    assert response.status_code == 400 and response.json["code"] == "malformed_body"
    assert "not valid JSON" in response.json["problems"][0]["message"]


def test_an_oversized_body_is_a_413_problem(app, client, admin):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post(
        "/v1/products", data="[" + " " * 4096 + "]", headers=admin, content_type="application/json"
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_an_unexpected_failure_is_a_500_problem_without_a_stack_trace(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500 and response.json["code"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)
