"""config's sourcing.first_ring: how many locations a plan reads first; the plan is the same."""

import pytest

from service.settings import ConfigError, settings_from_dict

ORDER = {"channel": "web", "ship_to": {"postal_code": "10001"},
         "lines": [{"sku": "A", "quantity": 2}, {"sku": "C", "quantity": 1}]}
# the plan over every location: ST-1 (New York) holds both lines next door to the ship-to
EVERY_LOCATION = ([("ST-1", [{"sku": "A", "quantity": 2}, {"sku": "C", "quantity": 1}])],
                  113.5977)


@pytest.fixture
def first_ring():
    return None


@pytest.fixture
def settings(db_url, tmp_path, rulesets_dir, active_ruleset, first_ring):
    sourcing = {} if first_ring is None else {"first_ring": first_ring}
    return settings_from_dict(
        {"database_url": db_url, "sourcing": sourcing,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset,
                      "reload_seconds": 1}},
        base_dir=tmp_path)


def _plan(client, admin):
    response = client.post("/v1/sourcing/plan", json=ORDER, headers=admin)
    assert response.status_code == 200, response.json
    return response.json


def _shipped(plan):
    return [(s["location"], s["lines"]) for s in plan["shipments"]], plan["total_cost"]


def test_by_default_a_plan_reads_eight_locations_first_so_the_small_network_at_once(
        stocked, client, admin, settings):
    assert settings.section("sourcing")["first_ring"] == 8
    plan = _plan(client, admin)
    read = plan["explanation"]["candidates"]
    assert read["locations_read"] == 4 and read["locations_not_read"] == 0
    assert read["unread_cost_floor"] is None
    assert _shipped(plan) == EVERY_LOCATION


@pytest.mark.parametrize("first_ring", [1])
def test_a_configured_first_ring_reads_fewer_locations_and_plans_the_same(
        stocked, client, admin, first_ring):
    plan = _plan(client, admin)
    read = plan["explanation"]["candidates"]
    assert read["locations_read"] == 1 and read["locations_not_read"] == 3
    assert read["unread_cost_floor"] >= plan["total_cost"]  # no unread one could be cheaper
    assert _shipped(plan) == EVERY_LOCATION


def test_a_first_ring_below_one_is_refused_by_name():
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"database_url": "sqlite:///x.db", "sourcing": {"first_ring": 0},
                            "rulesets": {"directory": "r", "active": "d@1"}})
    assert info.value.problems == ["sourcing.first_ring: 0 is less than the minimum of 1"]
