"""POST /v1/rulesets/simulate replays past orders against stock as it was: the ruleset that
decided live reproduces every live plan, a candidate moves orders where it should, nothing is
written, and bad input is a 422 naming the field."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from service.cli import main
from service.clock import MovableClock
from service.errors import ValidationFailed
from service.services.replay.simulate import Ask, simulate
from service.store.models.base import Base
from tests.support import snapshot

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NYC, CHICAGO, CINCINNATI = ({"lat": 40.71, "lon": -74.0}, {"lat": 41.88, "lon": -87.63},
                            {"lat": 39.1, "lon": -84.5})
SIMULATE = "/v1/rulesets/simulate"


@pytest.fixture
def clock():
    return MovableClock(START)


def _at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def history(small_network, client, admin):
    """Eight orders with deltas, a snapshot, a shipment, a cancel and holds between them
    (the last order consumes a checkout hold); A runs out at the stores and the DC so later
    orders are short (backordered)."""
    clock = small_network.clock
    placed: list[str] = []

    def post(path, body):
        clock.advance(60)
        response = client.post(path, json=body, headers=admin)
        assert response.status_code in (200, 201), response.json
        return response.json

    def order(ship_to, lines, **extra):
        body = post("/v1/orders", {"channel": "web", "ship_to": ship_to, "lines": lines,
                                   **extra})
        placed.append(body["id"])
        return body

    for location, counts in {"ST-1": {"A": 10, "C": 3}, "ST-2": {"A": 10},
                             "DC-1": {"A": 12, "B": 5}}.items():
        post("/v1/inventory/snapshots", snapshot(location, _at(0), counts))
    order(NYC, [{"sku": "A", "quantity": 3}])
    post("/v1/inventory/deltas", {"items": [{"location": "DC-1", "sku": "A", "adjust": -4}]})
    chicago = order(CHICAGO, [{"sku": "A", "quantity": 4}])
    order(NYC, [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}])
    for event in ("accepted", "shipped"):  # ST-2 ships the Chicago order
        post(f"/v1/fulfilments/{chicago['fulfilments'][0]['id']}/events", {"type": event})
    post("/v1/inventory/snapshots", snapshot("ST-1", _at(10), {"A": 7, "C": 3}))
    post(f"/v1/orders/{placed[0]}/cancel", {"reason": "changed mind"})
    order(CINCINNATI, [{"sku": "B", "quantity": 2}])
    post("/v1/reservations", {"channel": "web", "sku": "A", "quantity": 3, "location": "ST-1"})
    order(NYC, [{"sku": "A", "quantity": 6}])
    post("/v1/inventory/deltas", {"items": [{"location": "ST-2", "sku": "A", "on_hand": 9}]})
    order(CHICAGO, [{"sku": "A", "quantity": 9}, {"sku": "C", "quantity": 1}])
    order(CINCINNATI, [{"sku": "A", "quantity": 12}])
    checkout = post("/v1/reservations", {"channel": "web", "sku": "B", "quantity": 1,
                                         "location": "DC-1"})
    order(NYC, [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 2}],
          reservations=[checkout["id"]])
    clock.advance(60)
    return placed


def _counts(ctx) -> dict[str, int]:
    with ctx.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def _where(plan):
    return [(s["location"], s["lines"]) for s in plan["shipments"]]


def test_replaying_with_the_live_ruleset_reproduces_every_live_plan(
        small_network, history, client, admin):
    response = client.post(SIMULATE, headers=admin, json={
        "baseline": "default@2", "candidate": "dc-first@1", "orders": history})
    assert response.status_code == 200, response.json
    result = response.json
    assert result["orders"] == len(history) and result["skipped"] == []
    assert result["baseline"]["same_as_live"] == len(history)
    for plan in result["plans"]:
        assert plan["baseline_same_as_live"]
        assert _where(plan["baseline"]) == _where(plan["live"])
        assert plan["baseline"]["unfulfilled"] == plan["live"]["unfulfilled"]
        assert plan["baseline"]["total_cost"] == plan["live"]["total_cost"]
    assert result["baseline"]["backorders"] >= 1  # stock ran out as it did


def test_replaying_since_a_time_finds_the_same_orders_in_time_order(
        small_network, history, client, admin):
    response = client.post(SIMULATE, headers=admin, json={
        "baseline": "default@2", "candidate": "default@2", "since": START.isoformat()})
    assert response.status_code == 200, response.json
    assert [p["order"] for p in response.json["plans"]] == history
    assert response.json["changed"] == 0
    assert response.json["candidate"]["same_as_live"] == len(history)


def test_a_candidate_that_prefers_dcs_moves_the_orders_a_store_shipped(
        small_network, history):
    result = simulate(small_network, Ask("default@2", "dc-first@1", orders=tuple(history)))
    first = result["plans"][0]
    assert [loc for loc, _ in _where(first["baseline"])] == ["ST-1"]
    assert [loc for loc, _ in _where(first["candidate"])] == ["DC-1"]
    assert result["changed"] >= 1
    assert result["candidate"]["same_as_live"] < len(history)
    assert {e["order"] for e in result["examples"]} <= set(history)


def test_since_covering_more_orders_than_the_limit_is_a_problem_naming_since(
        small_network, history):
    with pytest.raises(ValidationFailed) as refused:
        simulate(small_network, Ask("default@2", "dc-first@1", since=START, limit=3))
    assert [p["pointer"] for p in refused.value.problems] == ["/since"]


def test_replay_writes_nothing(small_network, history, client, admin):
    before = _counts(small_network)
    positions = client.get("/v1/availability?channel=web&sku=A&sku=B&sku=C",
                           headers=admin).json
    response = client.post(SIMULATE, headers=admin, json={
        "baseline": "default@2", "candidate": "dc-first@1", "orders": history})
    assert response.status_code == 200
    assert _counts(small_network) == before
    assert client.get("/v1/availability?channel=web&sku=A&sku=B&sku=C",
                      headers=admin).json == positions


@pytest.mark.parametrize(("body", "pointer"), [
    ({"baseline": "default@2", "candidate": "nope@1", "since": "2026-03-01"}, "/candidate"),
    ({"baseline": "default@9", "candidate": "dc-first@1", "since": "2026-03-01"},
     "/baseline"),
    ({"baseline": "default@2", "candidate": "dc-first@1", "since": "2999-01-01"}, "/since"),
    ({"baseline": "default@2", "candidate": "dc-first@1", "since": "yesterday"}, "/since"),
    ({"baseline": "default@2", "candidate": "dc-first@1"}, "/since"),
    ({"baseline": "default@2", "candidate": "dc-first@1",
      "orders": [f"o{i}" for i in range(1001)]}, "/orders"),
    ({"baseline": "default@2", "candidate": "dc-first@1", "orders": ["missing"]},
     "/orders/0"),
])
def test_bad_input_is_a_problem_naming_the_field(small_network, client, admin, body,
                                                 pointer):
    before = _counts(small_network)
    response = client.post(SIMULATE, headers=admin, json=body)
    assert response.status_code == 422, response.json
    assert response.content_type.startswith("application/problem+json")
    assert pointer in [p["pointer"] for p in response.json["problems"]]
    assert _counts(small_network) == before


def test_only_admins_may_replay(small_network, client, headers_for):
    response = client.post(SIMULATE, headers=headers_for("channel:web"), json={
        "baseline": "default@2", "candidate": "dc-first@1", "since": "2026-03-01"})
    assert response.status_code == 403


@pytest.fixture
def config_file(tmp_path, db_url, rulesets_dir, monkeypatch) -> str:
    for name in ("OMS_CONFIG", "OMS_DATABASE_URL", "OMS_RULESETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database_url": db_url, "rulesets": {
        "directory": str(rulesets_dir), "active": "default@2"}}), encoding="utf-8")
    return str(path)


def test_the_cli_prints_the_comparison_and_draws_it(history, config_file, tmp_path, capsys):
    ids = tmp_path / "orders.txt"
    ids.write_text("\n".join(history) + "\n", encoding="utf-8")
    target = tmp_path / "replay.png"
    plot = ["--plot", str(target)] if importlib.util.find_spec("matplotlib") else []
    assert main(["--config", config_file, "rules", "simulate", "--baseline", "default@2",
                 "--candidate", "dc-first@1", "--orders", str(ids), *plot]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{len(history)} orders replayed")
    rows = {line.rsplit(None, 2)[0].strip(): line.rsplit(None, 2)[1:]
            for line in out.splitlines()[2:] if line and not line.startswith("chart")}
    assert rows["plans as live"][0] == str(len(history))
    assert int(out.split("orders whose plan changed")[1].split()[0]) >= 1
    if plot:
        assert target.read_bytes().startswith(b"\x89PNG")


def test_the_cli_names_the_bad_field(small_network, config_file, capsys):
    assert main(["--config", config_file, "rules", "simulate", "--baseline", "default@2",
                 "--candidate", "nope@1", "--since", "2026-03-01"]) == 1
    assert "/candidate" in capsys.readouterr().err


def test_a_snapshot_file_replaces_the_starting_counts(history, config_file, tmp_path, capsys):
    ids, stock = tmp_path / "orders.json", tmp_path / "stock.csv"
    ids.write_text(json.dumps(history), encoding="utf-8")
    stock.write_text("location,sku,on_hand\nDC-1,B,5\nST-1,A,0\nST-2,A,0\n", encoding="utf-8")
    assert main(["--config", config_file, "rules", "simulate", "--baseline", "default@2",
                 "--candidate", "default@2", "--orders", str(ids), "--stock", str(stock),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # DC-1 counted no A (absent from its counts), the stores none: the first orders of A
    # find none; B still ships from DC-1
    first = result["plans"][0]
    assert first["baseline"]["shipments"] == []
    assert first["baseline"]["unfulfilled"] == [{"sku": "A", "quantity": 3}]
    shipped = {(s["location"], ln["sku"]) for p in result["plans"]
               for s in p["baseline"]["shipments"] for ln in s["lines"]}
    assert ("DC-1", "B") in shipped and ("DC-1", "A") not in shipped
    assert result["baseline"]["same_as_live"] < len(history)
