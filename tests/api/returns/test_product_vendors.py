"""Products name their vendor (who takes a vendor return back) in JSON and CSV master data;
the product list answers it, and a product that names none answers null."""

from service.store.models import Product


def test_a_vendor_arrives_with_the_product_and_is_listed(client, admin, ctx):
    body = "sku,name,price,vendor\nA,Alpha,3.5,Acme Supply\nB,Beta,2,\n"
    sent = client.post("/v1/products", data=body, headers=admin, content_type="text/csv")
    assert sent.status_code == 200, sent.json
    sent = client.post("/v1/products", headers=admin,
                       json=[{"sku": "C", "name": "Gamma", "vendor": "Gamma Goods"}])
    assert sent.status_code == 200

    page = client.get("/v1/products", headers=admin).json
    listed = {p["sku"]: p["vendor"] for p in page["items"]}

    assert listed == {"A": "Acme Supply", "B": None, "C": "Gamma Goods"}
    with ctx.sessions() as session:
        assert session.get(Product, "A").vendor == "Acme Supply"


def test_an_upsert_without_a_vendor_keeps_the_one_the_product_has(client, admin, ctx):
    client.post("/v1/products", headers=admin, json=[{"sku": "A", "name": "a", "vendor": "V"}])
    client.post("/v1/products", headers=admin, json=[{"sku": "A", "name": "renamed"}])
    with ctx.sessions() as session:
        assert session.get(Product, "A").vendor == "V"


def test_an_empty_or_overlong_vendor_is_refused_naming_the_field(client, admin, ctx):
    for vendor in ("", "v" * 129, 7):
        refused = client.post("/v1/products", headers=admin,
                              json=[{"sku": "A", "name": "a", "vendor": vendor}])
        assert refused.status_code == 422
        assert refused.json["problems"][0]["pointer"] == "/0/vendor"
    with ctx.sessions() as session:
        assert session.get(Product, "A") is None
