"""GET /v1/experiments/{key}/results from the orders each variant decided, on SQLite and
PostgreSQL: units and orders, cost, shipments, km, split, rejection, re-route, cancellation
and backorder rates per variant; differences against control; the SRM check."""

import pytest

from service.domain.geo import haversine_km

NYC = (40.71, -74.0)
PLACES = {"ST-1": (40.75, -73.99), "ST-2": (41.88, -87.63), "DC-1": (39.1, -84.5)}


def tag(ctx, order_id, variant, experiment="dc-test"):
    with ctx.transaction() as uow:
        uow.experiments.tag_order(order_id, experiment, variant)


def results(client, headers, key="dc-test"):
    response = client.get(f"/v1/experiments/{key}/results", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_an_experiment_without_orders_reports_zeros_and_orders_0(started, client, admin):
    body = results(client, admin)
    assert (body["orders"], body["units"], body["control"]) == (0, 0, "control")
    assert [(v["name"], v["orders"], v["units"]) for v in body["variants"]] == [
        ("control", 0, 0), ("dc-first", 0, 0)]
    assert set(body["variants"][0]["metrics"].values()) == {0}
    cost = body["comparisons"][0]["metrics"]["cost_per_order"]
    assert (cost["difference"], cost["sequential_interval"], cost["significant"]) == (
        0, None, False)
    assert (body["srm"]["mismatch"], body["srm"]["p_value"]) == (False, 1.0)


def test_each_variants_metrics_come_from_the_orders_it_decided(stocked, client, admin, order):
    plain = order([{"sku": "A", "quantity": 1}], "alice")
    split = order([{"sku": "A", "quantity": 25}], "bob")  # more than any one location has
    rejected = order([{"sku": "A", "quantity": 1}], "carol")
    cancelled = order([{"sku": "A", "quantity": 1}], "carol")
    untagged = client.post("/v1/orders", headers=admin, json={  # no unit: in no experiment
        "channel": "web", "ship_to": {"lat": 40.71, "lon": -74.0},
        "lines": [{"sku": "A", "quantity": 1}]}).json
    assert untagged["experiment"] is None
    for placed, variant in ((plain, "control"), (split, "control"), (rejected, "dc-first"),
                            (cancelled, "dc-first")):
        tag(stocked, placed["id"], variant)
    first = rejected["fulfilments"][0]["id"]
    response = client.post(f"/v1/fulfilments/{first}/events", headers=admin,
                           json={"type": "rejected", "reason": "not_found"})
    assert response.status_code == 200, response.json
    assert client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=admin,
                       json={}).status_code == 200
    body = results(client, admin)
    control, treatment = body["variants"]
    assert (body["orders"], control["orders"], control["units"], treatment["orders"],
            treatment["units"]) == (4, 2, 2, 2, 1)
    assert untagged["id"] not in str(body)
    shipments = [len(plain["fulfilments"]), len(split["fulfilments"])]
    assert shipments[0] == 1 and shipments[1] >= 2
    assert control["metrics"]["shipments_per_order"] == pytest.approx(sum(shipments) / 2)
    assert control["metrics"]["split_rate"] == (shipments[1] >= 2) / 2
    cost = sum(f["cost"] for f in plain["fulfilments"] + split["fulfilments"]) / 2
    assert control["metrics"]["cost_per_order"] == pytest.approx(cost)
    km = [haversine_km(*PLACES[f["location"]], *NYC) for o in (plain, split)
          for f in o["fulfilments"]]
    assert control["metrics"]["km_per_shipment"] == pytest.approx(sum(km) / len(km), abs=0.01)
    assert (treatment["metrics"]["rejection_rate"], treatment["metrics"]["reroute_rate"],
            treatment["metrics"]["cancellation_rate"]) == (0.5, 0.5, 0.5)
    assert (control["metrics"]["rejection_rate"], control["metrics"]["cancellation_rate"]) == (
        0, 0)
    reroute = body["comparisons"][0]["metrics"]["reroute_rate"]
    assert (reroute["kind"], reroute["control"], reroute["treatment"], reroute["difference"]) \
        == ("proportion", 0, 0.5, 0.5)
    # carol's two orders are one unit: an arm needs two units for an interval
    assert reroute["sequential_interval"] is None and reroute["fixed_interval"] is None
    shipped = body["comparisons"][0]["metrics"]["cost_per_order"]
    assert shipped["kind"] == "mean" and shipped["control"] == pytest.approx(cost)
    assert body["srm"]["observed"] == [2, 1] and body["srm"]["expected"] == [1.5, 1.5]


def test_a_backordered_order_counts_for_its_variant(stocked, client, admin, order):
    waiting = client.post("/v1/orders", headers=admin, json={
        "channel": "web", "ship_to": {"lat": 40.71, "lon": -74.0}, "customer_id": "erin",
        "lines": [{"sku": "B", "quantity": 9}], "on_short": "backorder"})
    assert waiting.status_code == 201, waiting.json
    tag(stocked, waiting.json["id"], "dc-first")
    treatment = results(client, admin)["variants"][1]
    assert (treatment["orders"], treatment["metrics"]["backorder_rate"]) == (1, 1.0)


def test_results_follow_the_keys_roles(started, client, headers_for):
    assert client.get("/v1/experiments/dc-test/results",
                      headers=headers_for("channel:web")).status_code == 200
    assert client.get("/v1/experiments/dc-test/results",
                      headers=headers_for("channel:app")).status_code == 404
    assert client.get("/v1/experiments/dc-test/results",
                      headers=headers_for("location:ST-1")).status_code == 403


def test_an_order_names_its_experiment_and_variant_beside_its_ruleset(stocked, client, admin,
                                                                     order):
    placed = order([{"sku": "A", "quantity": 1}], "alice")  # alice: dc-first (GrowthBook)
    assert (placed["ruleset"], placed["experiment"], placed["variant"]) == (
        "dc-first@1", "dc-test", "dc-first")
    read = client.get(f"/v1/orders/{placed['id']}", headers=admin).json
    assert (read["ruleset"], read["experiment"], read["variant"]) == (
        "dc-first@1", "dc-test", "dc-first")
    with stocked.reading() as uow:
        kept = uow.orders.get(placed["id"])
    assert (kept.ruleset, kept.experiment, kept.variant) == (
        "dc-first@1", "dc-test", "dc-first")
