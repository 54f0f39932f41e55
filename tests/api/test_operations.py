"""Health, metrics and the OpenAPI document."""


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"]["status"] == "ok"


def test_healthz_is_503_when_the_database_is_unreachable(app, ctx):
    from service.store.db import make_engine

    ctx.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "down"


def test_metrics_are_prometheus_text(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "oms_http_requests_total" in response.get_data(as_text=True)


def test_openapi_lists_the_endpoints_with_their_payload_schemas(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/v1/products"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["items"]["$ref"] == (
        "#/components/schemas/product"
    )
    assert "sku" in spec["components"]["schemas"]["product"]["properties"]


def test_every_versioned_endpoint_is_in_the_openapi_document(app, client):
    spec = client.get("/openapi.json").json
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {path} is undocumented"


def test_openapi_request_schemas_resolve_to_components(client):
    spec = client.get("/openapi.json").json
    names = set(spec["components"]["schemas"])
    for operations in spec["paths"].values():
        for op in operations.values():
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            schema = content.get("schema", {})
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            if ref:
                assert ref.rsplit("/", 1)[1] in names
