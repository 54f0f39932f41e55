"""Products and locations read back a page at a time, searchable by key or name; master-data
rows whose key is not text, and CSV rows, are named precisely."""

import pytest

from tests.conftest import SMALL_LOCATIONS, SMALL_PRODUCTS


def test_products_are_listed_by_sku_with_their_facts(small_network, client, admin):
    response = client.get("/v1/products", headers=admin)
    assert response.status_code == 200
    assert [p["sku"] for p in response.json["items"]] == sorted(p["sku"] for p in SMALL_PRODUCTS)
    beta = response.json["items"][1]
    assert (beta["name"], beta["price"], beta["tags"]) == ("Beta", 20.0, ["clearance"])
    assert response.json["next"] is None and "Link" not in response.headers


def test_locations_come_a_page_at_a_time_with_a_link_to_the_next(small_network, client, admin):
    seen, url = [], "/v1/locations?limit=3"
    while url:
        response = client.get(url, headers=admin)
        assert response.status_code == 200
        seen += [row["id"] for row in response.json["items"]]
        link = response.headers.get("Link")
        assert (link is None) == (response.json["next"] is None)
        url = link.split(">")[0].lstrip("<") if link else None
    assert seen == sorted(loc["id"] for loc in SMALL_LOCATIONS)


@pytest.mark.parametrize(("query", "expected"), [
    ("st-", ["ST-1", "ST-2"]),         # part of the id, any case
    ("DROPSHIP", ["DS-1"]),            # part of the name
    ("nowhere", []),
    ("100%", []),                      # LIKE's wildcards are plain text
])
def test_locations_are_found_by_id_or_name(small_network, client, admin, query, expected):
    response = client.get("/v1/locations", query_string={"q": query}, headers=admin)
    assert [row["id"] for row in response.json["items"]] == expected


def test_a_search_pages_too(small_network, client, admin):
    first = client.get("/v1/products?q=a&limit=1", headers=admin).json
    second = client.get(f"/v1/products?q=a&limit=1&after={first['next']}", headers=admin).json
    assert [first["items"][0]["sku"], second["items"][0]["sku"]] == ["A", "B"]


@pytest.mark.parametrize("limit", ["0", "501", "ten"])
def test_a_page_size_outside_1_to_500_is_a_422(small_network, client, admin, limit):
    response = client.get(f"/v1/products?limit={limit}", headers=admin)
    assert response.status_code == 422 and response.json["problems"][0]["pointer"] == "/query/limit"


def test_only_an_admin_lists_master_data(small_network, client, headers_for):
    for path in ("/v1/products", "/v1/locations"):
        assert client.get(path, headers=headers_for("channel:web")).status_code == 403


@pytest.mark.parametrize("sku", [{"a": 1}, ["A"]])
def test_a_sku_that_is_not_text_is_a_422_naming_it(client, admin, sku):
    response = client.post("/v1/products", json=[{"sku": sku, "name": "x"},
                                                 {"sku": "B", "name": "y"}], headers=admin)
    assert response.status_code == 422
    assert "/0/sku" in {p["pointer"] for p in response.json["problems"]}


def test_a_location_id_that_is_not_text_is_a_422_naming_it(client, admin):
    row = dict(SMALL_LOCATIONS[0], id={"nested": True})
    response = client.post("/v1/locations", json=[row, row], headers=admin)
    assert response.status_code == 422
    assert {"/0/id", "/1/id"} <= {p["pointer"] for p in response.json["problems"]}


def test_a_bad_csv_row_is_named_by_its_line(client, admin):
    body = "sku,name,price\nA,Alpha,1\n\nB,Beta,cheap\n"
    response = client.post("/v1/products", data=body, headers=admin, content_type="text/csv")
    assert response.status_code == 422
    [found] = response.json["problems"]
    assert found["line"] == 4 and found["message"].startswith("line 4:")
    assert found["pointer"] == "/1/price"


def test_tags_that_fit_the_schema_fit_the_column(client, admin, ctx):
    tags = [f"{i:02d}" + "İ" * 22 for i in range(20)]  # lowercasing doubles İ
    response = client.post("/v1/products", json=[{"sku": "T", "name": "t", "tags": tags}],
                           headers=admin)
    assert response.status_code == 200, response.json
    listed = client.get("/v1/products?q=T", headers=admin).json["items"]
    assert listed[0]["tags"] == tags


def test_a_csv_body_that_cannot_be_read_is_a_400_naming_its_line(client, admin):
    body = b"sku,name\nA,Alpha\nB," + b"x" * 200_000 + b"\n"
    response = client.post("/v1/products", data=body, headers=admin, content_type="text/csv")
    assert response.status_code == 400 and response.json["code"] == "malformed_body"
    assert response.json["problems"][0]["message"].startswith("line 3: not valid CSV")
