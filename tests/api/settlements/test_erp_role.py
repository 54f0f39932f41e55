"""The `erp` role reads what leaves for the ERP and nothing else. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.api.orders.conftest import NYC
from tests.support import T2

REFUSED = [
    ("get", "/v1/orders", None),
    ("get", "/v1/availability?channel=web&sku=A", None),
    ("post", "/v1/orders", {"channel": "web", "ship_to": NYC,
                            "lines": [{"sku": "A", "quantity": 1}]}),
    ("post", "/v1/sourcing/plan", {"channel": "web", "ship_to": NYC,
                                   "lines": [{"sku": "A", "quantity": 1}]}),
    ("get", "/v1/rulesets", None),
    ("get", "/v1/products", None),
    ("post", "/v1/inventory/deltas", {"as_of": T2, "items": [
        {"location": "ST-1", "sku": "A", "on_hand": 1}]}),
    ("post", "/v1/transfers", {"from": "DC-1", "to": "ST-2",
                               "lines": [{"sku": "A", "quantity": 1}]}),
    ("post", "/v1/reservations", {"channel": "web", "sku": "A", "quantity": 1}),
]


@pytest.fixture
def erp(headers_for):
    return headers_for("erp")


def test_an_erp_key_lists_the_settlement_records(stocked, settle, client, erp):
    settle(1)
    response = client.get("/v1/settlements", headers=erp)
    assert response.status_code == 200 and len(response.json["items"]) == 2


@pytest.mark.parametrize(("method", "path", "body"), REFUSED,
                         ids=[f"{m} {p.split('?')[0]}" for m, p, _ in REFUSED])
def test_an_erp_key_is_refused_everything_else(stocked, client, erp, method, path, body):
    response = getattr(client, method)(path, headers=erp, json=body)
    assert response.status_code == 403, response.json
    assert response.json["code"] == "forbidden"


def test_an_erp_key_never_learns_of_an_order_or_a_location_queue(stocked, settle, client, erp):
    [order_id, *_] = settle(1)
    assert client.get(f"/v1/orders/{order_id}", headers=erp).status_code == 404
    assert client.get("/v1/locations/ST-1/fulfilments", headers=erp).status_code == 404
