"""Bulk upsert of products and locations: all rows or none."""

from sqlalchemy import func, select

from service.store.models import Location, Product

STORE = {
    "id": "ST-1",
    "name": "Main St",
    "type": "store",
    "lat": 40.7,
    "lon": -74.0,
    "postal_code": "10001",
    "can_pickup": True,
    "daily_capacity": 50,
    "tags": ["flagship"],
}


def count(ctx, model):
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_products_are_created_then_updated(client, admin, ctx):
    rows = [
        {"sku": "A", "name": "a", "price": 1.5, "tags": ["Clearance"]},
        {"sku": "B", "name": "b"},
    ]
    first = client.post("/v1/products", json=rows, headers=admin)
    assert first.status_code == 200 and first.json == {"received": 2, "created": 2, "updated": 0}
    rows[0]["name"] = "renamed"
    second = client.post("/v1/products", json=rows[:1], headers=admin)
    assert second.json == {"received": 1, "created": 0, "updated": 1}
    with ctx.sessions() as session:
        product = session.get(Product, "A")
    assert product.name == "renamed" and product.tags_text == ",clearance,"


def test_a_bad_row_writes_nothing_and_every_problem_is_named(client, admin, ctx):
    rows = [{"sku": "A", "name": "a"}, {"sku": "B", "price": -3}, {"name": "no sku", "x": 1}]
    response = client.post("/v1/products", json=rows, headers=admin)
    assert response.status_code == 422
    pointers = {p["pointer"] for p in response.json["problems"]}
    assert {"/1", "/1/price", "/2"} <= pointers
    assert any("unknown field" in p["message"] for p in response.json["problems"])
    assert count(ctx, Product) == 0


def test_duplicate_keys_in_one_batch_are_refused(client, admin, ctx):
    response = client.post(
        "/v1/products", json=[{"sku": "A", "name": "a"}, {"sku": "A", "name": "b"}], headers=admin
    )
    assert response.status_code == 422 and "duplicate" in response.json["problems"][0]["message"]


def test_a_negative_capacity_is_refused_and_nothing_is_written(client, admin, ctx):
    bad = dict(STORE, id="ST-2", daily_capacity=-5)
    response = client.post("/v1/locations", json=[STORE, bad], headers=admin)
    assert response.status_code == 422
    assert response.json["problems"][0]["pointer"] == "/1/daily_capacity"
    assert count(ctx, Location) == 0


def test_locations_are_upserted(client, admin, ctx):
    response = client.post("/v1/locations", json=[STORE], headers=admin)
    assert response.status_code == 200 and response.json["created"] == 1
    with ctx.sessions() as session:
        assert session.get(Location, "ST-1").can_pickup is True


def test_products_arrive_as_csv(client, admin, ctx):
    body = "sku,name,price,tags\nA,Alpha,3.5,new|sale\nB,Beta,,\n"
    response = client.post("/v1/products", data=body, headers=admin, content_type="text/csv")
    assert response.status_code == 200 and response.json["created"] == 2
    with ctx.sessions() as session:
        assert session.get(Product, "A").tags == ["new", "sale"]


def test_a_bad_csv_value_names_its_row_and_field(client, admin, ctx):
    body = "id,name,type,lat,lon,daily_capacity\nST-1,x,store,40,-74,lots\n"
    response = client.post("/v1/locations", data=body, headers=admin, content_type="text/csv")
    assert response.status_code == 422
    assert response.json["problems"][0]["pointer"] == "/0/daily_capacity"


def test_products_arrive_as_ndjson(client, admin, ctx):
    body = '{"sku": "A", "name": "a"}\n{"sku": "B", "name": "b"}\n'
    response = client.post(
        "/v1/products", data=body, headers=admin, content_type="application/x-ndjson"
    )
    assert response.status_code == 200 and count(ctx, Product) == 2


def test_a_broken_ndjson_line_is_named_by_number(client, admin, ctx):
    body = '{"sku": "A", "name": "a"}\n{oops\n'
    response = client.post(
        "/v1/products", data=body, headers=admin, content_type="application/x-ndjson"
    )
    assert response.status_code == 422 and "line 2" in response.json["problems"][0]["message"]
    assert count(ctx, Product) == 0
