"""Bad order, plan and cancel requests each get a clean 4xx and write nothing."""

import pytest

from tests.support import assert_ledger_consistent


def test_cancelling_a_line_listed_twice_is_refused(stocked, order, client, admin):
    order_id = order([{"sku": "A", "quantity": 4}]).json["id"]
    response = client.post(f"/v1/orders/{order_id}/cancel", headers=admin,
                           json={"lines": [{"sku": "A", "quantity": 2},
                                           {"sku": "A", "quantity": 2}]})
    assert response.status_code == 422 and "twice" in response.json["problems"][0]["message"]
    assert_ledger_consistent(stocked)


@pytest.mark.parametrize("text", ['{"channel": "web", "ship_to": {"lat": NaN, "lon": 1}}',
                                  '{"channel": "web", "lines": [{"unit_price": Infinity}]}'])
def test_nan_and_infinity_are_not_json(stocked, client, admin, text):
    response = client.post("/v1/orders", data=text, headers=admin,
                           content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "malformed_body"


def test_a_non_string_channel_with_a_key_is_a_clean_422(stocked, client, admin):
    response = client.post("/v1/orders", json={"channel": ["web"], "lines": []},
                           headers={**admin, "Idempotency-Key": "k"})
    assert response.status_code == 422


def test_an_absurd_unit_price_is_refused(stocked, order):
    response = order([{"sku": "A", "quantity": 1, "unit_price": 1e11}])
    assert response.status_code == 422
    assert response.json["problems"][0]["pointer"] == "/lines/0/unit_price"


def test_a_plan_for_an_unknown_channel_is_a_404(stocked, client, admin):
    body = {"channel": "Web", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": "A", "quantity": 1}]}
    response = client.post("/v1/sourcing/plan", json=body, headers=admin)
    assert response.status_code == 404 and "known: " in response.json["detail"]
