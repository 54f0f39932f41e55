"""count_in_transit: the web (transit@1) sells units in transit to a store expected within 48
hours, less the store's buffer of two; the marketplace never does. The kept figure follows
shipments, receipts, closes, counts, ruleset switches and time (the `transfers.arrivals` job).

The `stocked` network: A is 10 at ST-1 and 20 at DC-1; B is 5 at DC-1. ST-2 is a store with
nothing. Time moves on the service's clock (a MovableClock), never by sleeping.
"""

from datetime import UTC, datetime, timedelta

import pytest

from service.clock import MovableClock
from service.scheduler import job_specs, run_once
from service.services.inventory import snapshot_plans
from service.services.orders import releasing
from tests.api.transfers.conftest import written
from tests.support import T2, assert_ledger_consistent, snapshot

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def policy() -> str:
    return "transit@1"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


def figure(client, admin, channel: str, sku: str = "A") -> int:
    return client.get(f"/v1/availability?channel={channel}&sku={sku}",
                      headers=admin).json["items"][0]["available"]


def entry(client, admin, channel: str, location: str, sku: str = "A") -> dict:
    items = client.get(f"/v1/availability?channel={channel}&sku={sku}&detail=locations",
                       headers=admin).json["items"]
    return next(loc for loc in items[0]["locations"] if loc["location"] == location)


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def shipped_transfer(transfer, report, lines, **extra) -> str:
    created = transfer(lines, **extra)
    assert created.status_code == 201, created.json
    assert report(created.json["id"], "shipped").status_code == 200
    return created.json["id"]


def run_arrivals(ctx, owner: str = "test-scheduler") -> bool:
    spec = next(s for s in job_specs(ctx) if s.name == "transfers.arrivals")
    return run_once(ctx, spec, owner=owner)


def test_a_channel_that_counts_in_transit_sees_the_arriving_units_and_another_does_not(
        stocked, client, admin, transfer, report, ctx):
    assert (figure(client, admin, "web"), figure(client, admin, "marketplace")) == (28, 30)
    tid = shipped_transfer(transfer, report, [{"sku": "A", "quantity": 6}],
                           expected_at=at(24))
    # DC-1 lost 6; ST-2 sells 0 on hand + 6 arriving - 2 kept back on the web only
    assert figure(client, admin, "web") == 8 + 14 + 4
    assert figure(client, admin, "marketplace") == 10 + 14
    web = entry(client, admin, "web", "ST-2")
    assert (web["on_hand"], web["in_transit"], web["in_transit_counted"], web["hold_back"],
            web["available"]) == (0, 6, 6, 2, 4)
    assert "stores-sell-what-arrives-within-two-days" in {r["rule"] for r in web["rules"]}
    market = entry(client, admin, "marketplace", "ST-2")
    assert (market["in_transit"], market["available"]) == (6, 0)
    assert "in_transit_counted" not in market
    assert_ledger_consistent(ctx)

    part = report(tid, "received", lines=[{"sku": "A", "quantity": 4}])
    assert part.status_code == 200, part.json
    web = entry(client, admin, "web", "ST-2")  # 4 on hand + 2 still arriving - 2: no unit twice
    assert (web["on_hand"], web["in_transit_counted"], web["available"]) == (4, 2, 4)
    assert figure(client, admin, "web") == 8 + 14 + 4
    assert figure(client, admin, "marketplace") == 10 + 14 + 4
    assert_ledger_consistent(ctx)

    assert report(tid, "closed", reason="two lost").status_code == 200  # 2 recorded missing
    assert entry(client, admin, "web", "ST-2")["available"] == 4 - 2
    assert figure(client, admin, "web") == 8 + 14 + 2
    assert_ledger_consistent(ctx)


def test_a_transfer_expected_after_the_window_counts_once_time_brings_it_in(
        stocked, client, admin, transfer, report, ctx, clock):
    shipped_transfer(transfer, report, [{"sku": "A", "quantity": 6}], expected_at=at(72))
    shipped_transfer(transfer, report, [{"sku": "B", "quantity": 5}])  # arrival unknown
    assert figure(client, admin, "web") == 8 + 14
    assert entry(client, admin, "web", "ST-2")["in_transit_counted"] == 0
    clock.advance(23 * 3600)  # expected in 49 hours: still outside
    assert run_arrivals(ctx)
    assert figure(client, admin, "web") == 8 + 14
    clock.advance(2 * 3600)  # expected in 47 hours: inside, sold once the job has run
    assert run_arrivals(ctx)
    assert not run_arrivals(ctx, owner="another-scheduler")  # the lease: one process runs it
    assert figure(client, admin, "web") == 8 + 14 + 4
    assert entry(client, admin, "web", "ST-2")["in_transit_counted"] == 6
    assert figure(client, admin, "web", "B") == 0  # an unknown arrival is never counted
    assert entry(client, admin, "web", "ST-2", "B")["in_transit"] == 5
    assert_ledger_consistent(ctx)


def test_a_count_at_the_destination_and_a_ruleset_switch_keep_the_arriving_units_right(
        stocked, client, admin, transfer, report, ctx):
    shipped_transfer(transfer, report, [{"sku": "A", "quantity": 6}], expected_at=at(1))
    counted = client.post("/v1/inventory/deltas", headers=admin, json={"items": [
        {"location": "ST-2", "sku": "A", "on_hand": 3, "as_of": T2}]})
    assert counted.status_code == 200, counted.json
    assert entry(client, admin, "web", "ST-2")["available"] == 3 + 6 - 2
    assert_ledger_consistent(ctx)
    switched = client.post("/v1/rulesets/activate", json={"name": "ledger", "version": 1},
                           headers=admin)
    assert switched.status_code == 200, switched.json
    assert figure(client, admin, "web") == 8 + 14 + (3 - 2)
    back = client.post("/v1/rulesets/activate", json={"name": "transit", "version": 1},
                       headers=admin)
    assert back.status_code == 200, back.json
    assert figure(client, admin, "web") == 8 + 14 + (3 + 6 - 2)
    assert_ledger_consistent(ctx)


def test_an_order_for_units_in_transit_waits_until_they_are_received(
        stocked, client, admin, transfer, report, order, ctx):
    tid = shipped_transfer(transfer, report, [{"sku": "B", "quantity": 5}], expected_at=at(5))
    assert figure(client, admin, "web", "B") == 5 - 2  # all of B is on its way to ST-2
    placed = order([{"sku": "B", "quantity": 2}])
    assert placed.status_code == 201, placed.json
    assert placed.json["status"] == "backordered"
    assert placed.json["fulfilments"] == []
    assert_ledger_consistent(ctx)
    assert releasing.release_woken(ctx) == []  # nothing on a shelf yet: it keeps waiting

    received = report(tid, "received", lines=[{"sku": "B", "quantity": 5}])
    assert received.status_code == 200, received.json
    assert releasing.release_woken(ctx) == [placed.json["id"]]
    after = client.get(f"/v1/orders/{placed.json['id']}", headers=admin).json
    assert [(f["location"], f["lines"][0]["quantity"]) for f in after["fulfilments"]] == [
        ("ST-2", 2)]
    assert entry(client, admin, "web", "ST-2", "B")["allocated"] == 2
    assert figure(client, admin, "web", "B") == 5 - 2 - 2
    assert_ledger_consistent(ctx)


@pytest.mark.parametrize("when", ["tomorrow", "2026-03-03T09:00:00", "2026-13-03T09:00:00Z"])
def test_an_expected_arrival_that_is_not_a_time_with_an_offset_is_a_422_writing_nothing(
        stocked, transfer, ctx, when):
    before = written(ctx)
    refused = transfer([{"sku": "A", "quantity": 1}], expected_at=when)
    assert refused.status_code == 422, refused.json
    assert [p["pointer"] for p in refused.json["problems"]] == ["/expected_at"]
    assert written(ctx) == before


def test_the_expected_arrival_is_shown_and_a_shipment_may_set_it(
        stocked, transfer, report, client, admin):
    created = transfer([{"sku": "A", "quantity": 2}])
    assert created.json["expected_at"] is None
    shipped = report(created.json["id"], "shipped", expected_at="2026-03-02T12:00:00+03:00")
    assert shipped.status_code == 200, shipped.json
    assert datetime.fromisoformat(shipped.json["expected_at"]) == START
    assert entry(client, admin, "web", "ST-2")["in_transit_counted"] == 2
    wrong = report(created.json["id"], "closed", expected_at=at(1))
    assert wrong.status_code == 422
    assert [p["pointer"] for p in wrong.json["problems"]] == ["/expected_at"]


@pytest.mark.parametrize("path", ["locked", "bulk", "csv"])
def test_a_snapshot_of_the_destination_keeps_the_arriving_units_exact(
        stocked, client, admin, transfer, report, ctx, monkeypatch, path):
    if path == "bulk":  # PostgreSQL's ordered UPDATE without a lock pass, from one row on
        monkeypatch.setattr(snapshot_plans, "BULK_ROWS", 1)
    shipped_transfer(transfer, report, [{"sku": "A", "quantity": 6},
                                        {"sku": "B", "quantity": 3}], expected_at=at(10))
    if path == "csv":
        counted = client.post("/v1/inventory/snapshots", data="sku,on_hand\nA,3\nC,1\n",
                              headers=admin, query_string={"location": "ST-2", "as_of": T2},
                              content_type="text/csv")
    else:
        counted = client.post("/v1/inventory/snapshots", headers=admin,
                              json=snapshot("ST-2", T2, {"A": 3, "C": 1}))
    assert counted.status_code == 200, counted.json
    web_a, web_b = entry(client, admin, "web", "ST-2"), entry(client, admin, "web", "ST-2", "B")
    assert (web_a["on_hand"], web_a["available"]) == (3, 3 + 6 - 2)
    assert (web_b["on_hand"], web_b["available"]) == (0, 3 - 2)
    assert figure(client, admin, "web", "B") == 2 + 1  # DC-1 kept two
    assert figure(client, admin, "web") == 8 + 14 + 7
    assert_ledger_consistent(ctx)
