"""Backorder release: units an order waits for are planned when stock for them arrives, by
the wakeup the stock's transaction leaves (the `orders.backorders` job) or by the sweep
(`orders.backorders.sweep`), oldest order first, never with units another order holds.

The `stocked` network: B is 5 at DC-1 only; A is 10 at ST-1 and 20 at DC-1 (web may sell
all but two of a store's units, ledger@1).
"""

from sqlalchemy import func, select

from service.scheduler import job_specs, run_once
from service.store.models import BackorderWakeup, Event
from tests.api.orders.test_rejections import position, read
from tests.support import T2, T3, assert_ledger_consistent


def run_job(ctx, name: str) -> bool:
    """One firing of a scheduler job, as a scheduler process runs it."""
    spec = next(s for s in job_specs(ctx) if s.name == name)
    return run_once(ctx, spec, owner="test-scheduler")


def delta(client, admin, sku: str, on_hand: int, as_of: str = T2, location: str = "DC-1"):
    response = client.post("/v1/inventory/deltas", headers=admin, json={
        "items": [{"location": location, "sku": sku, "on_hand": on_hand, "as_of": as_of}]})
    assert response.status_code == 200, response.json
    return response


def wakeups(ctx) -> list[str]:
    with ctx.sessions() as session:
        return list(session.scalars(select(BackorderWakeup.sku).order_by(BackorderWakeup.id)))


def events_of(ctx, type_: str) -> list[dict]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Event.payload).where(Event.type == type_)
                                    .order_by(Event.id)))


def backordered(client, admin, order_id) -> int:
    return sum(line["backordered"] for line in read(client, admin, order_id)["lines"])


def test_stock_arriving_by_delta_releases_the_backorder_through_the_wakeup_job(
        stocked, client, admin, order, ctx):
    placed = order([{"sku": "B", "quantity": 8}])
    assert placed.status_code == 201 and placed.json["status"] == "partially_backordered"
    order_id = placed.json["id"]
    assert backordered(client, admin, order_id) == 3
    assert_ledger_consistent(ctx)

    delta(client, admin, "B", 9)  # four more arrive at DC-1
    assert wakeups(ctx) == ["B"]
    assert backordered(client, admin, order_id) == 3  # the job releases, not the push
    assert run_job(ctx, "orders.backorders") is True

    after = read(client, admin, order_id)
    assert after["status"] == "created" and after["lines"][0]["backordered"] == 0
    [first, released] = after["fulfilments"]
    assert (released["location"], released["lines"][0]["quantity"]) == ("DC-1", 3)
    assert position(ctx, "DC-1", "B") == (9, 8)
    [decision] = after["explanation"]["releases"]
    assert decision["trigger"] == "stock_rose" and decision["waiting"] == [
        {"sku": "B", "quantity": 3}]
    assert decision["shipments"][0]["fulfilment"] == released["id"]
    [event] = events_of(ctx, "order.released")
    assert event["lines"] == [{"sku": "B", "quantity": 3}] and event["status"] == "created"
    assert wakeups(ctx) == []
    assert_ledger_consistent(ctx)


def test_the_sweep_releases_what_stock_allows_and_the_rest_keeps_waiting(
        stocked, client, admin, order, ctx):
    order_id = order([{"sku": "B", "quantity": 9}]).json["id"]
    delta(client, admin, "B", 7)  # two of the four it waits for

    assert run_job(ctx, "orders.backorders.sweep") is True

    after = read(client, admin, order_id)
    assert after["lines"][0]["backordered"] == 2 and after["status"] == "partially_backordered"
    assert after["explanation"]["releases"][0]["trigger"] == "sweep"
    assert position(ctx, "DC-1", "B") == (7, 7)
    assert_ledger_consistent(ctx)
    # the wakeup the delta left finds nothing more to release: no event, no change
    assert run_job(ctx, "orders.backorders") is True
    assert len(events_of(ctx, "order.released")) == 1
    assert read(client, admin, order_id)["fulfilments"] == after["fulfilments"]


def test_a_stock_rise_nobody_waits_for_writes_no_wakeup(stocked, client, admin, order, ctx):
    delta(client, admin, "A", 30)
    order([{"sku": "B", "quantity": 6}])  # B waits now; A still does not
    delta(client, admin, "A", 31, as_of=T3)

    assert wakeups(ctx) == []


def test_the_oldest_waiting_order_is_released_first(stocked, client, admin, order, ctx):
    older = order([{"sku": "B", "quantity": 8}]).json["id"]  # 5 allocated, 3 waiting
    newer = order([{"sku": "B", "quantity": 2}]).json["id"]  # 2 waiting
    assert backordered(client, admin, newer) == 2

    delta(client, admin, "B", 8)  # three arrive: the older order's three
    run_job(ctx, "orders.backorders")

    assert (backordered(client, admin, older), backordered(client, admin, newer)) == (0, 2)
    delta(client, admin, "B", 10, as_of=T3)
    run_job(ctx, "orders.backorders")
    assert backordered(client, admin, newer) == 0
    assert position(ctx, "DC-1", "B") == (10, 10)
    assert_ledger_consistent(ctx)


def test_a_released_backorder_never_takes_units_a_newer_order_holds(
        stocked, client, admin, order, ctx):
    waiting = order([{"sku": "B", "quantity": 8}]).json["id"]  # 3 waiting
    delta(client, admin, "B", 7)  # two arrive, and a newer order takes them first
    newer = order([{"sku": "B", "quantity": 2}])
    assert newer.status_code == 201 and newer.json["lines"][0]["allocated"] == 2

    run_job(ctx, "orders.backorders")
    run_job(ctx, "orders.backorders.sweep")

    assert backordered(client, admin, waiting) == 3
    assert read(client, admin, newer.json["id"])["lines"][0]["backordered"] == 0
    assert position(ctx, "DC-1", "B") == (7, 7)
    assert events_of(ctx, "order.released") == []
    assert_ledger_consistent(ctx)


def test_units_a_cancel_frees_wake_the_orders_waiting_for_them(
        stocked, client, admin, order, ctx):
    holder = order([{"sku": "B", "quantity": 5}]).json["id"]
    waiting = order([{"sku": "B", "quantity": 2}]).json["id"]
    assert backordered(client, admin, waiting) == 2

    cancel = client.post(f"/v1/orders/{holder}/cancel", headers=admin,
                         json={"lines": [{"sku": "B", "quantity": 2}]})
    assert cancel.status_code == 200, cancel.json
    assert wakeups(ctx) == ["B"]
    run_job(ctx, "orders.backorders")

    assert backordered(client, admin, waiting) == 0
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(BackorderWakeup)) == 0
    assert_ledger_consistent(ctx)


def test_a_transfer_received_where_the_channel_sells_releases_the_backorder(
        stocked, client, admin, order, ctx):
    waiting = order([{"sku": "C", "quantity": 4}]).json["id"]  # web sees 1 of ST-1's 3
    assert backordered(client, admin, waiting) == 3
    moved = client.post("/v1/transfers", headers=admin, json={
        "from": "ST-1", "to": "DC-1", "lines": [{"sku": "C", "quantity": 2}]})
    assert moved.status_code == 201, moved.json
    for event in ({"type": "shipped"},
                  {"type": "received", "lines": [{"sku": "C", "quantity": 2}]}):
        sent = client.post(f"/v1/transfers/{moved.json['id']}/events", headers=admin,
                           json=event)
        assert sent.status_code == 200, sent.json
    assert wakeups(ctx) == ["C"]

    run_job(ctx, "orders.backorders")

    after = read(client, admin, waiting)
    assert after["lines"][0]["backordered"] == 1
    assert [(f["location"], f["lines"][0]["quantity"]) for f in after["fulfilments"]] == [
        ("ST-1", 1), ("DC-1", 2)]
    assert_ledger_consistent(ctx)
