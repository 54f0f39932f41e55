"""One order's whole life through the API, on SQLite and PostgreSQL (issue 14's journey):
placed, partly rejected and re-routed, expired by the acceptance SLA and re-routed again,
backordered, stock arrives and the backorder is released, edited (quantity down and up, a
new address), shipped and delivered. After every step the ledger is audited: each position's
allocation is exactly its open fulfilment lines, each kept channel figure a fresh recompute,
no unit is lost or counted twice, and nothing is allocated again at a location that
rejected the line.

The `spread` stock (ledger@1): A is 10 at ST-1 (New York), 10 at ST-2 (Chicago) and 20 at
DC-1 (Cincinnati); B is 5 at DC-1. Time moves on the service's clock, never by sleeping.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.clock import MovableClock
from service.scheduler import job_specs, run_once
from service.store.models import Event
from tests.api.orders.test_rejections import position, read, reject
from tests.integration.orders.test_rejection_races import nothing_oversold, units_accounted_for
from tests.support import T2, assert_ledger_consistent

START = datetime(2026, 12, 1, 9, tzinfo=UTC)
MINUTE = 60
CHICAGO = {"name": "J. Doe", "address_lines": ["1 Wacker Dr"], "city": "Chicago",
           "postal_code": "60601", "country": "US", "lat": 41.88, "lon": -87.63}


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


def run_job(ctx, name: str) -> bool:
    """One firing of a scheduler job, as a scheduler process runs it."""
    spec = next(s for s in job_specs(ctx) if s.name == name)
    return run_once(ctx, spec, owner="test-scheduler")


def send(client, admin, fulfilment_id: str, type_: str) -> dict:
    response = client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                           json={"type": type_})
    assert response.status_code == 200, response.json
    return response.json


def event_count(ctx) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(Event))


def line(order_json: dict, sku: str) -> dict:
    return next(ln for ln in order_json["lines"] if ln["sku"] == sku)


def live(order_json: dict, sku: str) -> list[tuple[str, int]]:
    """(location, open units) of the fulfilments still holding units of sku."""
    out = []
    for f in order_json["fulfilments"]:
        for row in f["lines"]:
            units = row["quantity"] - row["shipped"] - row["cancelled"] - row["rejected"]
            if row["sku"] == sku and units and f["status"] not in ("cancelled", "rejected"):
                out.append((f["location"], units))
    return out


def audit(ctx, client, admin, order_id: str) -> dict:
    """The ledger and the order after a step (see the module); the order as read."""
    assert_ledger_consistent(ctx)
    units_accounted_for(ctx, order_id)
    nothing_oversold(ctx)
    order = read(client, admin, order_id)
    for sku in {ln["sku"] for ln in order["lines"]}:
        seen_rejecting: set[str] = set()
        for f in order["fulfilments"]:  # oldest first: a re-route never goes back
            rows = [row for row in f["lines"] if row["sku"] == sku]
            if not rows:
                continue
            assert f["location"] not in seen_rejecting, (sku, f["location"], order)
            if rows[0]["rejected"]:
                seen_rejecting.add(f["location"])
    return order


def test_an_order_lives_its_whole_life_and_the_ledger_holds_after_every_step(
        spread, client, admin, headers_for, order, ctx, clock):
    placed = order([{"sku": "A", "quantity": 4}, {"sku": "B", "quantity": 7}])
    assert placed.status_code == 201, placed.json
    order_id = placed.json["id"]
    after = audit(ctx, client, admin, order_id)
    # one shipment from DC-1 costs less than two: it has all of A and the five B there are
    assert live(after, "A") == [("DC-1", 4)] and live(after, "B") == [("DC-1", 5)]
    assert line(after, "B")["backordered"] == 2
    [at_dc1] = after["fulfilments"]

    # DC-1 finds one A of four: it rejects three, re-routed at once (to ST-1, New York)
    clock.advance(MINUTE)
    rejected = reject(client, headers_for("location:DC-1"), at_dc1["id"],
                      lines=[{"sku": "A", "quantity": 3}])
    assert rejected.status_code == 200, rejected.json
    after = audit(ctx, client, admin, order_id)
    assert sorted(live(after, "A")) == [("DC-1", 1), ("ST-1", 3)]
    assert position(ctx, "DC-1") == (20, 1) and position(ctx, "ST-1") == (10, 3)
    send(client, headers_for("location:DC-1"), at_dc1["id"], "accepted")

    # ST-1 never accepts the three: the SLA job rejects them (sla_expired) and re-routes
    # them to ST-2, the one location holding A that has not refused it
    [rerouted] = [f["id"] for f in after["fulfilments"] if f["location"] == "ST-1"]
    clock.advance(239 * MINUTE)
    assert run_job(ctx, "fulfilments.expire")
    assert audit(ctx, client, admin, order_id)["fulfilments"][1]["status"] == "created"
    clock.advance(2 * MINUTE)
    assert run_job(ctx, "fulfilments.expire")
    after = audit(ctx, client, admin, order_id)
    expired = next(f for f in after["fulfilments"] if f["id"] == rerouted)
    assert (expired["status"], expired["reason"]) == ("rejected", "sla_expired")
    assert sorted(live(after, "A")) == [("DC-1", 1), ("ST-2", 3)]
    assert position(ctx, "ST-1") == (10, 0) and position(ctx, "ST-2") == (10, 3)
    assert [r["rejected_by"] for r in after["explanation"]["reroutes"]] == ["DC-1", "ST-1"]

    # two B arrive at DC-1: the wakeup job releases the backordered two there
    arrived = client.post("/v1/inventory/deltas", headers=admin, json={
        "items": [{"location": "DC-1", "sku": "B", "on_hand": 7, "as_of": T2}]})
    assert arrived.status_code == 200, arrived.json
    assert run_job(ctx, "orders.backorders")
    after = audit(ctx, client, admin, order_id)
    assert line(after, "B")["backordered"] == 0
    assert sum(units for _loc, units in live(after, "B")) == 7
    assert position(ctx, "DC-1", "B") == (7, 7)

    # edits: B down to 4 (three freed), A up to 6 (two more planned), then a new address
    down = client.post(f"/v1/orders/{order_id}/edits", headers=admin,
                       json={"lines": [{"sku": "B", "quantity": 4}]})
    assert down.status_code == 200, down.json
    after = audit(ctx, client, admin, order_id)
    assert position(ctx, "DC-1", "B") == (7, 4)
    up = client.post(f"/v1/orders/{order_id}/edits", headers=admin,
                     json={"lines": [{"sku": "A", "quantity": 6}]})
    assert up.status_code == 200, up.json
    after = audit(ctx, client, admin, order_id)
    # the two more go to ST-2: DC-1 and ST-1 refused A (DC-1 keeps the one it accepted)
    assert sorted(live(after, "A")) == [("DC-1", 1), ("ST-2", 3), ("ST-2", 2)] or \
        sorted(live(after, "A")) == [("DC-1", 1), ("ST-2", 2), ("ST-2", 3)]
    assert position(ctx, "ST-2") == (10, 5) and position(ctx, "ST-1") == (10, 0)
    moved = client.post(f"/v1/orders/{order_id}/edits", headers=admin,
                        json={"ship_to": CHICAGO})
    assert moved.status_code == 200, moved.json
    after = audit(ctx, client, admin, order_id)
    assert after["ship_to"]["city"] == "Chicago"
    # Chicago is ST-2's city: DC-1's unpicked unit of A moves there (never to ST-1)
    assert {loc for loc, _units in live(after, "A")} == {"ST-2"}
    assert sum(units for _loc, units in live(after, "A")) == 6
    assert position(ctx, "ST-2") == (10, 6) and position(ctx, "DC-1") == (20, 0)

    # every live fulfilment ships and is delivered
    for f in after["fulfilments"]:
        if f["status"] in ("cancelled", "rejected"):
            continue
        steps = ("accepted", "picked", "packed", "shipped")
        for type_ in steps[1:] if f["status"] == "accepted" else steps:
            send(client, admin, f["id"], type_)
        after = audit(ctx, client, admin, order_id)
    assert after["status"] == "shipped"
    for f in after["fulfilments"]:
        if f["status"] == "shipped":
            send(client, admin, f["id"], "delivered")
    after = audit(ctx, client, admin, order_id)
    assert after["status"] == "delivered"
    assert [sum(row["shipped"] for f in after["fulfilments"] for row in f["lines"]
                if row["sku"] == sku) for sku in "AB"] == [6, 4]
    assert [position(ctx, loc) for loc in ("ST-1", "ST-2", "DC-1")] == [
        (10, 0), (4, 0), (20, 0)]
    assert position(ctx, "DC-1", "B") == (3, 0)

    # a delivered line cannot be edited: 409 naming the line, nothing written
    refused = client.post(f"/v1/orders/{order_id}/edits", headers=admin,
                          json={"lines": [{"sku": "A", "quantity": 1}]})
    assert refused.status_code == 409, refused.json
    assert refused.json["problems"][0]["pointer"] == "/lines/0/quantity"
    assert read(client, admin, order_id) == after
    assert_ledger_consistent(ctx)


def test_editing_a_shipped_line_is_a_409_naming_the_line_and_writes_nothing(
        spread, client, admin, order, ctx):
    placed = order([{"sku": "B", "quantity": 3}])
    order_id, [fulfilment] = placed.json["id"], placed.json["fulfilments"]
    for type_ in ("accepted", "picked", "packed", "shipped"):
        send(client, admin, fulfilment["id"], type_)
    before = (read(client, admin, order_id), event_count(ctx), position(ctx, "DC-1", "B"))

    for body in ({"lines": [{"sku": "B", "quantity": 1}]},  # (more is a new shipment)
                 {"lines": [{"sku": "B", "quantity": 0}]}):
        refused = client.post(f"/v1/orders/{order_id}/edits", headers=admin, json=body)
        assert refused.status_code == 409, refused.json
        assert refused.json["problems"][0]["pointer"] == "/lines/0/quantity"
        assert "3 units of B already picked or shipped" in refused.json["problems"][0]["message"]
    assert (read(client, admin, order_id), event_count(ctx),
            position(ctx, "DC-1", "B")) == before
    assert_ledger_consistent(ctx)
