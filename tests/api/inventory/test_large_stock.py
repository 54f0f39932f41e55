"""Whatever stock a push or master data is accepted with can be stored and summed (on SQLite
and PostgreSQL): a position holds at most 10,000,000 units, a channel's ATS of a SKU may sum
past 2^31 over many locations, a location's numbers stay within what their columns hold."""

from tests.support import T1

MAX_UNITS = 10_000_000


def test_an_adjustment_past_the_most_a_position_holds_is_rejected_with_its_line(small_network,
                                                                              push, ats):
    items = [{"location": "DC-1", "sku": "A", "on_hand": MAX_UNITS - 5},
             {"location": "DC-1", "sku": "A", "adjust": 5},
             {"location": "DC-1", "sku": "A", "adjust": 1},
             {"location": "DC-1", "sku": "B", "adjust": 7}]
    report = push("deltas", {"as_of": T1, "items": items}).json
    assert (report["applied"], report["rejected"]) == (3, 1)
    assert [(e["line"], e["sku"], "more than 10000000" in e["reason"])
            for e in report["errors"]] == [(3, "A", True)]
    assert (ats("web", "A"), ats("web", "B")) == (MAX_UNITS, 7)


def test_a_skus_units_summed_over_many_locations_may_pass_two_to_the_31(small_network, client,
                                                                        admin, push, ats):
    locations = [{"id": f"DC-{n}", "name": f"DC {n}", "type": "dc", "lat": 39.0, "lon": -84.0}
                 for n in range(100, 320)]
    assert client.post("/v1/locations", json=locations, headers=admin).status_code == 200
    items = [{"location": loc["id"], "sku": "A", "on_hand": MAX_UNITS} for loc in locations]
    report = push("deltas", {"as_of": T1, "items": items})
    assert report.status_code == 200 and report.json["applied"] == 220
    assert ats("web", "A") == 220 * MAX_UNITS > 2**31


def test_a_location_number_past_what_its_column_holds_is_refused_naming_it(small_network,
                                                                          client, admin):
    row = {"id": "BIG", "name": "Big", "type": "dc", "lat": 1, "lon": 1,
           "daily_capacity": 3_000_000_000, "priority": -3_000_000_000}
    response = client.post("/v1/locations", json=[row], headers=admin)
    assert response.status_code == 422
    assert sorted(p["pointer"] for p in response.json["problems"]) == [
        "/0/daily_capacity", "/0/priority"]
