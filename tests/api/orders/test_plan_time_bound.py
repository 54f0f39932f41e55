"""A plan says how long it may take and whether it is proven optimal (issue 13)."""

import pytest

from service.settings import settings_from_dict

PLAN = {"channel": "web", "ship_to": {"postal_code": "10001"},
        "lines": [{"sku": "A", "quantity": 25}, {"sku": "B", "quantity": 2}]}


@pytest.fixture
def max_plan_ms():
    return None


@pytest.fixture
def settings(db_url, tmp_path, rulesets_dir, active_ruleset, max_plan_ms):
    sourcing = {} if max_plan_ms is None else {"max_plan_ms": max_plan_ms}
    return settings_from_dict(
        {"database_url": db_url, "sourcing": sourcing,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset,
                      "reload_seconds": 1}},
        base_dir=tmp_path,
    )


def test_a_plan_is_bounded_by_the_default_200_ms_and_says_it_is_proven(stocked, client, admin):
    response = client.post("/v1/sourcing/plan", json=PLAN, headers=admin)
    assert response.status_code == 200
    search = response.json["explanation"]["search"]
    assert search["max_plan_ms"] == 200
    assert search["proven_optimal"] is True and search["gap"] == 0.0
    assert search["deadline_hit"] is False
    assert search["cost_bound"] == pytest.approx(response.json["total_cost"], abs=1e-3)


@pytest.mark.parametrize("max_plan_ms", [1])
def test_a_configured_limit_is_used_and_the_plan_still_says_whether_it_is_proven(
        stocked, client, admin, max_plan_ms):
    response = client.post("/v1/sourcing/plan", json=PLAN, headers=admin)
    assert response.status_code == 200
    search = response.json["explanation"]["search"]
    assert search["max_plan_ms"] == 1
    assert isinstance(search["proven_optimal"], bool)
    assert isinstance(search["deadline_hit"], bool)
    assert not (search["deadline_hit"] and search["proven_optimal"])
    shipped = sum(ln["quantity"] for s in response.json["shipments"] for ln in s["lines"])
    short = sum(ln["quantity"] for ln in response.json["unfulfilled"])
    assert shipped + short == 27
