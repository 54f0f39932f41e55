"""Shadow experiments on SQLite and PostgreSQL: a challenger plans every live order of its
channels beside the live plan; nothing of it reaches stock, orders, events or the kept ATS
(the same orders with the experiment as a draft leave every table the same), and each
order's decision (plan differs, costs) is recorded and reported with the results."""

import shutil

import pytest
from sqlalchemy import text

from service.services.masterdata import upserts
from service.services.rulesets import governance
from tests.api.experiments.conftest import HEAD, NYC
from tests.conftest import SMALL_LOCATIONS, SMALL_PRODUCTS, empty_tables
from tests.support import FIXTURES, T1, snapshot

SHADOW = HEAD + """\
  - key: lean-shadow
    unit: customer_id
    channels: [web]
    coverage: 1
    status: {status}
    variants:
      - {{name: live, ruleset: ledger@1, weight: 0.5}}
      - {{name: lean, ruleset: ledger@2, weight: 0.5}}
"""
TABLES = {  # every table an order touches, without ids and times
    "stock_positions": "location_id, sku, on_hand, allocated, reserved",
    "channel_availability": "channel, sku, available, ruleset",
    "variant_availability": "ruleset, channel, sku, available",
    "orders": "channel, customer_id, status, ruleset, experiment, variant",
    "order_lines": "sku, quantity, quantity_cancelled, quantity_backordered",
    "fulfilment_lines": "sku, quantity, quantity_shipped, quantity_rejected",
    "fulfilments": "location_id, status, cost",
    "events": "type, aggregate_type",
}


@pytest.fixture
def rulesets_dir(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rulesets", root)
    return root


def run(ctx, client, headers_for, rulesets_dir, status):
    """Start on an empty database with the experiment in this status, stock the network,
    place two web orders; every table's rows as the orders left them, and the results."""
    empty_tables(ctx.engine)
    ctx.rules.imported = ctx.rules.experiments_imported = ctx.rules.experiments_cache = None
    (rulesets_dir / "experiments.yaml").write_text(SHADOW.format(status=status))
    upserts.upsert_locations(ctx, SMALL_LOCATIONS)
    upserts.upsert_products(ctx, SMALL_PRODUCTS)
    governance.start(ctx)
    admin = headers_for("admin")
    for location, items in {"ST-1": {"A": 10}, "ST-2": {"A": 10}, "DC-1": {"A": 20, "B": 5}
                            }.items():
        assert client.post("/v1/inventory/snapshots", json=snapshot(location, T1, items),
                           headers=admin).status_code == 200
    placed = []
    for customer, sku in (("c1", "A"), ("c2", "B")):  # ledger@2: A from DC-1, not ST-1
        response = client.post("/v1/orders", headers=admin, json={
            "channel": "web", "ship_to": NYC, "lines": [{"sku": sku, "quantity": 1}],
            "customer_id": customer})
        assert response.status_code == 201, response.json
        placed.append(response.json)
    with ctx.engine.connect() as conn:
        tables = {name: sorted(tuple(r) for r in conn.execute(text(
            f"SELECT {columns} FROM {name}"))) for name, columns in TABLES.items()}
        decisions = [(r[0], bool(r[1]), r[2], r[3], r[4]) for r in conn.execute(text(
            "SELECT s.shadow, s.differs, s.live_cost, s.shadow_cost, o.customer_id"
            " FROM shadow_decisions s JOIN orders o ON o.id = s.order_id"
            " ORDER BY o.customer_id"))]
    results = client.get("/v1/experiments/lean-shadow/results", headers=admin).json
    return tables, decisions, results, placed


def test_a_shadow_changes_nothing_in_stock_orders_events_and_records_its_differences(
        ctx, client, headers_for, rulesets_dir):
    drafted, none, _, _ = run(ctx, client, headers_for, rulesets_dir, "draft")
    shadowed, decisions, results, placed = run(ctx, client, headers_for, rulesets_dir,
                                               "shadow")
    assert none == []
    assert shadowed == drafted
    assert shadowed["variant_availability"] == []  # a shadow keeps no figures
    assert [(p["ruleset"], p["experiment"]) for p in placed] == [("ledger@1", None)] * 2
    live_cost = [p["plan"]["total_cost"] for p in placed]
    assert [(d[0], d[1], d[4]) for d in decisions] == [("ledger@2", True, "c1"),
                                                       ("ledger@2", False, "c2")]
    assert [d[2] for d in decisions] == pytest.approx(live_cost)
    assert decisions[1][3] == pytest.approx(decisions[1][2])  # the same plan, the same cost
    assert results["shadow"] == [{
        "ruleset": "ledger@2", "orders": 2, "plans_differ": 1, "differ_rate": 0.5,
        "live_cost_per_order": pytest.approx(sum(live_cost) / 2, abs=1e-3),
        "shadow_cost_per_order": pytest.approx((decisions[0][3] + decisions[1][3]) / 2,
                                               abs=1e-3),
        "cost_difference_per_order": pytest.approx(
            (decisions[0][3] - decisions[0][2]) / 2, abs=1e-3)}]
