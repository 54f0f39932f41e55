"""The acceptance SLA: a fulfilment not accepted in time is rejected (sla_expired) and
re-routed by the scheduler's job, on SQLite and PostgreSQL.

Time moves on the service's clock (a MovableClock), never by sleeping. The stock is the
rejection tests' `spread`: a New York order for A goes to ST-1, then DC-1, then ST-2.
"""

from datetime import UTC, datetime

import pytest

from service.clock import MovableClock
from service.scheduler import job_specs, run_once
from service.services.orders import expiring
from service.services.rulesets import governance
from tests.api.orders.test_rejections import placed_at_st1, position, read, reject
from tests.support import assert_ledger_consistent

START = datetime(2026, 12, 1, 9, tzinfo=UTC)
MINUTE = 60


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


def run_job(ctx) -> bool:
    """One firing of the scheduler's SLA job, as a scheduler process runs it."""
    spec = next(s for s in job_specs(ctx) if s.name == "fulfilments.expire")
    return run_once(ctx, spec, owner="test-scheduler")


def event(client, headers, fulfilment_id, type_):
    return client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=headers,
                       json={"type": type_})


def test_the_journey_partial_reject_then_sla_expiry_reroutes_and_the_ledger_holds(
        spread, client, admin, headers_for, order, ctx, clock):
    order_id, at_st1 = placed_at_st1(order)
    assert_ledger_consistent(ctx)

    # ST-1 finds one unit of four: it rejects three, which go to DC-1 at once
    clock.advance(MINUTE)
    rejected = reject(client, headers_for("location:ST-1"), at_st1,
                      lines=[{"sku": "A", "quantity": 3}])
    assert rejected.status_code == 200
    at_dc1 = read(client, admin, order_id)["fulfilments"][-1]
    assert (at_dc1["location"], at_dc1["lines"][0]["quantity"]) == ("DC-1", 3)
    assert position(ctx, "ST-1")[1] == 1 and position(ctx, "DC-1")[1] == 3
    assert_ledger_consistent(ctx)
    assert event(client, headers_for("location:ST-1"), at_st1, "accepted").status_code == 200

    # DC-1 never accepts: nothing happens before its 240 minutes are up...
    clock.advance(238 * MINUTE)
    assert run_job(ctx) is True
    assert len(read(client, admin, order_id)["fulfilments"]) == 2

    # ...then the job rejects it (sla_expired) and re-routes to ST-2, never back to ST-1
    clock.advance(2 * MINUTE)
    assert run_job(ctx) is True
    after = read(client, admin, order_id)
    [st1, dc1, st2] = after["fulfilments"]
    assert (st1["status"], dc1["status"], dc1["reason"]) == ("accepted", "rejected",
                                                             "sla_expired")
    assert (st2["location"], st2["lines"][0]["quantity"]) == ("ST-2", 3)
    assert after["explanation"]["reroutes"][-1]["rejected_by"] == "DC-1"
    assert after["explanation"]["reroutes"][-1]["reason"] == "sla_expired"
    assert position(ctx, "DC-1")[1] == 0 and position(ctx, "ST-2")[1] == 3
    assert_ledger_consistent(ctx)

    # ST-2 does not accept either: every location holding A has refused it, so it waits
    clock.advance(241 * MINUTE)
    assert run_job(ctx) is True
    after = read(client, admin, order_id)
    assert len(after["fulfilments"]) == 3 and after["fulfilments"][2]["status"] == "rejected"
    assert after["lines"][0]["backordered"] == 3
    assert after["status"] == "partially_backordered"
    assert [position(ctx, loc)[1] for loc in ("ST-1", "DC-1", "ST-2")] == [1, 0, 0]
    assert_ledger_consistent(ctx)

    # the unit ST-1 accepted ships as usual
    assert event(client, headers_for("location:ST-1"), at_st1, "shipped").status_code == 200
    assert position(ctx, "ST-1") == (9, 0)
    assert_ledger_consistent(ctx)


def test_an_accepted_fulfilment_is_never_expired(spread, client, admin, order, ctx, clock):
    order_id, fulfilment_id = placed_at_st1(order)
    assert event(client, admin, fulfilment_id, "accepted").status_code == 200

    clock.advance(10_000 * MINUTE)

    assert expiring.expire_unaccepted(ctx) == []
    assert [f["status"] for f in read(client, admin, order_id)["fulfilments"]] == ["accepted"]


@pytest.mark.parametrize("policy", ["sla@1"])
def test_a_ruleset_gives_stores_their_own_limit(policy, spread, client, admin, order, ctx,
                                                clock):
    store_order, at_store = placed_at_st1(order)
    dc_order = order([{"sku": "B", "quantity": 1}]).json
    at_dc = dc_order["fulfilments"][0]
    assert at_dc["location"] == "DC-1"

    clock.advance(29 * MINUTE)
    assert expiring.expire_unaccepted(ctx) == []
    clock.advance(2 * MINUTE)
    assert expiring.expire_unaccepted(ctx) == [at_store]  # stores: 30 minutes in sla@1

    clock.advance(209 * MINUTE)  # 240 minutes for the DC: config's limit
    assert expiring.expire_unaccepted(ctx) == [at_dc["id"]]
    assert read(client, admin, dc_order["id"])["lines"][0]["backordered"] == 1
    assert read(client, admin, store_order)["fulfilments"][0]["reason"] == "sla_expired"
    assert_ledger_consistent(ctx)


def test_a_reroute_plans_with_the_ruleset_the_order_was_placed_with(
        spread, client, admin, order, ctx, clock):
    order_id, fulfilment_id = placed_at_st1(order)
    with ctx.transaction() as uow:
        governance.switch(ctx, uow, "strict", 1, "test")

    assert reject(client, admin, fulfilment_id).status_code == 200

    [decision] = read(client, admin, order_id)["explanation"]["reroutes"]
    assert decision["ruleset"] == "ledger@1" and decision["policy_applied"] == "allow_split"
    assert_ledger_consistent(ctx)
