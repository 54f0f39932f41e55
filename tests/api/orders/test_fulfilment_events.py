"""Ship locations report on their fulfilments over HTTP; shipping moves the stock ledger.

On SQLite and PostgreSQL. The `stocked` network: A is 10 at ST-1 (New York) and 20 at DC-1,
counted at T1; a New York order for A is fulfilled from ST-1.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.store.models import Event, SettlementRecord, StockPosition
from service.store.orders import OrderRepository
from tests.support import T2, T3, assert_ledger_consistent

BETWEEN_T1_AND_T2 = "2026-03-01T10:30:00Z"


def moment(seconds_from_now: float = 0) -> str:
    """A time as ISO-8601 text (fulfilments exist from now on, so they ship from now on)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds_from_now)).isoformat()


def ship_a(order, quantity=2):
    """Place a New York order for A; its one fulfilment (at ST-1)."""
    placed = order([{"sku": "A", "quantity": quantity}])
    assert placed.status_code == 201
    [fulfilment] = placed.json["fulfilments"]
    assert fulfilment["location"] == "ST-1"
    return placed.json["id"], fulfilment["id"]


def report(client, headers, fulfilment_id, type_, **extra):
    return client.post(f"/v1/fulfilments/{fulfilment_id}/events",
                       json={"type": type_, **extra}, headers=headers)


def st1_a(client, admin):
    """ST-1's stock and ATS of A, as detail=locations shows them."""
    items = client.get("/v1/availability?channel=web&sku=A&detail=locations",
                       headers=admin).json["items"]
    return next(loc for loc in items[0]["locations"] if loc["location"] == "ST-1")


def web_a(client, admin):
    return client.get("/v1/availability?channel=web&sku=A", headers=admin).json["items"][0][
        "available"]


def delta(client, admin, as_of, on_hand, location="ST-1"):
    return client.post("/v1/inventory/deltas", headers=admin, json={
        "as_of": as_of, "items": [{"location": location, "sku": "A", "on_hand": on_hand}]})


def test_shipping_takes_the_units_off_the_shelf_and_the_allocation(stocked, client, admin,
                                                                    order, ctx):
    order_id, fulfilment_id = ship_a(order)
    before = st1_a(client, admin)
    assert (before["on_hand"], before["allocated"]) == (10, 2)
    web_before = web_a(client, admin)

    at = moment()
    response = report(client, admin, fulfilment_id, "shipped", at=at, tracking="1Z999")

    assert response.status_code == 200
    body = response.json
    assert body["status"] == "shipped" and body["order_status"] == "shipped"
    assert body["tracking"] == "1Z999"
    assert datetime.fromisoformat(body["shipped_at"]) == datetime.fromisoformat(at)
    assert body["lines"] == [{"sku": "A", "quantity": 2, "shipped": 2, "cancelled": 0,
                              "rejected": 0, "open": 0}]
    after = st1_a(client, admin)
    assert (after["on_hand"], after["allocated"]) == (8, 0)
    # the units were already not for sale: nothing a channel sees moves
    assert after["available"] == before["available"]
    assert web_a(client, admin) == web_before
    read = client.get(f"/v1/orders/{order_id}", headers=admin).json
    assert read["status"] == "shipped" and read["fulfilments"][0]["lines"][0]["shipped"] == 2
    assert_ledger_consistent(ctx)


def test_a_count_older_than_the_shipment_never_brings_shipped_units_back(
        stocked, client, admin, order, ctx):
    _order_id, fulfilment_id = ship_a(order)
    at = moment()
    assert report(client, admin, fulfilment_id, "shipped", at=at).status_code == 200

    stale_delta = delta(client, admin, BETWEEN_T1_AND_T2, 10)
    stale_snapshot = client.post("/v1/inventory/snapshots", headers=admin, json={
        "location": "ST-1", "as_of": BETWEEN_T1_AND_T2,
        "items": [{"sku": "A", "on_hand": 10}, {"sku": "C", "on_hand": 3}]})

    assert stale_delta.json["stale"] == 1 and stale_delta.json["applied"] == 0
    assert stale_snapshot.status_code == 200 and stale_snapshot.json["stale"] == 1
    assert st1_a(client, admin)["on_hand"] == 8
    with ctx.sessions() as session:
        position = session.scalars(select(StockPosition).where(
            StockPosition.location_id == "ST-1", StockPosition.sku == "A")).one()
    assert position.last_shipped_at == datetime.fromisoformat(at)
    assert_ledger_consistent(ctx)


def test_a_movement_recorded_before_the_shipment_still_applies(stocked, client, admin, order,
                                                              ctx):
    # a till sale at ST-1, reported after a web parcel left: both units are gone
    _order_id, fulfilment_id = ship_a(order)
    sold_at = moment()
    report(client, admin, fulfilment_id, "shipped", at=moment(1))

    sale = client.post("/v1/inventory/deltas", headers=admin, json={
        "as_of": sold_at, "items": [{"location": "ST-1", "sku": "A", "adjust": -1}]})

    assert sale.json["applied"] == 1 and sale.json["stale"] == 0
    assert (st1_a(client, admin)["on_hand"], st1_a(client, admin)["allocated"]) == (7, 0)
    assert_ledger_consistent(ctx)


def test_a_count_taken_after_the_shipment_is_authoritative_again(stocked, client, admin,
                                                                 order, ctx):
    _order_id, fulfilment_id = ship_a(order)
    report(client, admin, fulfilment_id, "shipped", at=moment())

    counted = delta(client, admin, moment(1), 7)

    assert counted.json["applied"] == 1
    assert (st1_a(client, admin)["on_hand"], st1_a(client, admin)["allocated"]) == (7, 0)
    assert_ledger_consistent(ctx)


def test_a_shipment_reported_after_a_later_count_still_takes_its_units_off(
        stocked, client, admin, order, ctx):
    # The position cannot tell a count that missed the parcel from an adjustment or another
    # shipment, so the units come off: the shelf is understated until the next count, and
    # nothing the parcel took can be sold again.
    _order_id, fulfilment_id = ship_a(order)
    shipped_at = moment()
    delta(client, admin, moment(2), 8)
    counted = st1_a(client, admin)
    assert (counted["on_hand"], counted["allocated"]) == (8, 2)

    report(client, admin, fulfilment_id, "shipped", at=shipped_at)

    after = st1_a(client, admin)
    assert (after["on_hand"], after["allocated"]) == (6, 0)
    assert after["available"] == counted["available"]
    assert delta(client, admin, moment(3), 8).json["applied"] == 1  # the next count corrects
    assert_ledger_consistent(ctx)


def test_two_shipments_at_the_same_moment_both_take_their_units_off(stocked, client, admin,
                                                                    order, ctx):
    _first, first_id = ship_a(order, quantity=2)
    _second, second_id = ship_a(order, quantity=3)
    at = moment()

    report(client, admin, first_id, "shipped", at=at)
    report(client, admin, second_id, "shipped", at=at)

    after = st1_a(client, admin)
    assert (after["on_hand"], after["allocated"]) == (5, 0)
    assert_ledger_consistent(ctx)


def test_a_shipment_cannot_be_dated_before_its_fulfilment_existed(stocked, client, admin,
                                                                  order):
    _order_id, fulfilment_id = ship_a(order)

    response = report(client, admin, fulfilment_id, "shipped", at=T2)

    assert response.status_code == 422 and response.json["problems"][0]["pointer"] == "/at"
    assert "before the fulfilment was created" in response.json["problems"][0]["message"]
    assert (st1_a(client, admin)["on_hand"], st1_a(client, admin)["allocated"]) == (10, 2)


def test_reporting_shipped_again_is_a_retry_that_changes_nothing(stocked, client, admin,
                                                                  order, ctx):
    _order_id, fulfilment_id = ship_a(order)
    at = moment()
    first = report(client, admin, fulfilment_id, "shipped", at=at)

    again = report(client, admin, fulfilment_id, "shipped", at=at)

    assert again.status_code == 200 and again.json == first.json
    assert st1_a(client, admin)["on_hand"] == 8
    with ctx.sessions() as session:
        settled = list(session.scalars(select(SettlementRecord)))
        shipped_events = list(session.scalars(select(Event).where(
            Event.type == "fulfilment.shipped")))
    assert [(s.kind, s.sku, s.location_id, s.quantity) for s in settled] == [
        ("shipped", "A", "ST-1", 2)]
    assert len(shipped_events) == 1
    assert shipped_events[0].payload["lines"] == [{"sku": "A", "quantity": 2}]


def test_each_step_is_an_event_and_the_order_follows_its_fulfilments(stocked, client, admin,
                                                                     order, ctx):
    order_id, fulfilment_id = ship_a(order)

    statuses = [report(client, admin, fulfilment_id, step).json["order_status"]
                for step in ("accepted", "picked", "packed", "shipped", "delivered")]

    assert statuses == ["in_progress", "in_progress", "in_progress", "shipped", "delivered"]
    with ctx.sessions() as session:
        types = [e.type for e in session.scalars(
            select(Event).where(Event.aggregate_id.in_([order_id, fulfilment_id]))
            .order_by(Event.id))]
    assert types == ["order.placed", "fulfilment.requested", "order.allocated",
                     "fulfilment.accepted", "order.status_changed", "fulfilment.picked",
                     "fulfilment.packed", "fulfilment.shipped", "order.status_changed",
                     "fulfilment.delivered", "order.status_changed"]


def test_a_fulfilment_never_goes_back_and_is_delivered_only_after_shipping(
        stocked, client, admin, order):
    _order_id, fulfilment_id = ship_a(order)

    too_early = report(client, admin, fulfilment_id, "delivered")
    report(client, admin, fulfilment_id, "packed")
    backwards = report(client, admin, fulfilment_id, "accepted")

    assert too_early.status_code == 409 and "must ship before" in too_early.json["detail"]
    assert backwards.status_code == 409 and "cannot go back" in backwards.json["detail"]
    assert st1_a(client, admin)["allocated"] == 2


def test_a_cancelled_fulfilment_cannot_ship(stocked, client, admin, order):
    order_id, fulfilment_id = ship_a(order)
    client.post(f"/v1/orders/{order_id}/cancel", headers=admin)

    response = report(client, admin, fulfilment_id, "shipped")

    assert response.status_code == 409 and "cancelled" in response.json["detail"]
    assert (st1_a(client, admin)["on_hand"], st1_a(client, admin)["allocated"]) == (10, 0)


def test_only_what_is_still_open_ships_after_part_of_a_line_was_cancelled(
        stocked, client, admin, order, ctx):
    order_id, fulfilment_id = ship_a(order, quantity=3)
    client.post(f"/v1/orders/{order_id}/cancel", headers=admin,
                json={"lines": [{"sku": "A", "quantity": 1}]})

    shipped = report(client, admin, fulfilment_id, "shipped", at=moment()).json

    assert shipped["lines"][0] | {} == {"sku": "A", "quantity": 3, "shipped": 2,
                                        "cancelled": 1, "rejected": 0, "open": 0}
    assert (st1_a(client, admin)["on_hand"], st1_a(client, admin)["allocated"]) == (8, 0)
    assert_ledger_consistent(ctx)


def test_a_location_key_reports_only_on_its_own_fulfilments(stocked, client, order,
                                                            headers_for):
    _order_id, fulfilment_id = ship_a(order)

    other_store = report(client, headers_for("location:DC-1"), fulfilment_id, "accepted")
    a_channel = report(client, headers_for("channel:web"), fulfilment_id, "accepted")
    its_store = report(client, headers_for("location:ST-1"), fulfilment_id, "accepted")

    assert other_store.status_code == 404 and a_channel.status_code == 404
    assert its_store.status_code == 200 and its_store.json["status"] == "accepted"


def test_a_bad_event_names_every_problem(stocked, client, admin, order):
    _order_id, fulfilment_id = ship_a(order)

    unknown = report(client, admin, fulfilment_id, "teleported", colour="red")
    not_a_time = report(client, admin, fulfilment_id, "shipped", at="yesterday")
    future = report(client, admin, fulfilment_id, "shipped", at="2999-01-01T00:00:00Z")
    missing = report(client, admin, "no-such-fulfilment", "shipped")

    assert unknown.status_code == 422
    assert {p["pointer"] for p in unknown.json["problems"]} == {"", "/type"}
    assert not_a_time.status_code == 422 and not_a_time.json["problems"][0]["pointer"] == "/at"
    assert future.status_code == 422 and "ahead" in future.json["problems"][0]["message"]
    assert missing.status_code == 404
    assert st1_a(client, admin)["allocated"] == 2  # nothing moved


def test_a_location_sees_its_open_work_and_asks_for_one_status(stocked, client, order,
                                                               headers_for):
    store = headers_for("location:ST-1")
    _first, shipped_id = ship_a(order)
    _second, open_id = ship_a(order, quantity=1)
    report(client, store, shipped_id, "shipped")

    open_work = client.get("/v1/locations/ST-1/fulfilments", headers=store)
    shipped = client.get("/v1/locations/ST-1/fulfilments?status=shipped", headers=store)
    not_its_own = client.get("/v1/locations/DC-1/fulfilments", headers=store)
    bad_status = client.get("/v1/locations/ST-1/fulfilments?status=lost", headers=store)

    assert [f["id"] for f in open_work.json] == [open_id]
    assert open_work.json[0]["lines"][0]["open"] == 1
    assert [f["id"] for f in shipped.json] == [shipped_id]
    assert not_its_own.status_code == 404
    assert bad_status.status_code == 422


def test_the_event_time_defaults_to_now(stocked, client, admin, order):
    _order_id, fulfilment_id = ship_a(order)

    body = report(client, admin, fulfilment_id, "shipped").json

    assert body["shipped_at"] > T3
    assert delta(client, admin, T3, 10).json["stale"] == 1  # any count from before now is old
    assert st1_a(client, admin)["on_hand"] == 8


def test_concurrent_shipped_retries_ship_once_and_all_answer_alike(stocked, app, order, admin,
                                                                   ctx):
    _order_id, fulfilment_id = ship_a(order)
    at, threads = moment(), 6
    barrier = threading.Barrier(threads)
    answers: list[tuple[int, str]] = []

    def ship() -> None:
        client = app.test_client()
        barrier.wait()
        response = report(client, admin, fulfilment_id, "shipped", at=at)
        answers.append((response.status_code, response.json["status"]))

    workers = [threading.Thread(target=ship) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert answers == [(200, "shipped")] * threads
    with ctx.sessions() as session:
        assert len(list(session.scalars(select(SettlementRecord)))) == 1
    client = app.test_client()
    assert (st1_a(client, admin)["on_hand"], st1_a(client, admin)["allocated"]) == (8, 0)
    assert_ledger_consistent(ctx)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_event_waiting_for_the_order_lock_is_judged_on_the_status_it_finds_there(
        stocked, app, client, order, admin, monkeypatch):
    # PostgreSQL only: SQLite serialises writers from the start of the transaction.
    _order_id, fulfilment_id = ship_a(order)
    real_get = OrderRepository.get_of_fulfilment
    overtaken = []

    def overtaken_before_the_lock(repository, fulfilment, lock=False):
        if lock and not overtaken:  # another request ships while this one waits
            overtaken.append(True)
            worker = threading.Thread(target=lambda: overtaken.append(report(
                app.test_client(), admin, fulfilment_id, "shipped").status_code))
            worker.start()
            worker.join()
        return real_get(repository, fulfilment, lock)

    monkeypatch.setattr(OrderRepository, "get_of_fulfilment", overtaken_before_the_lock)
    late = report(client, admin, fulfilment_id, "packed")

    assert overtaken == [True, 200]
    assert late.status_code == 409 and "already shipped" in late.json["detail"]
    read = client.get("/v1/locations/ST-1/fulfilments?status=shipped", headers=admin).json
    assert [f["id"] for f in read] == [fulfilment_id]


def test_a_long_queue_comes_in_pages_linked_to_the_next(stocked, client, order, headers_for):
    store = headers_for("location:ST-1")
    placed = [ship_a(order, quantity=1)[1] for _ in range(5)]

    first = client.get("/v1/locations/ST-1/fulfilments?limit=2", headers=store)
    second = client.get(first.headers["Link"].split(">")[0][1:], headers=store)
    third = client.get(second.headers["Link"].split(">")[0][1:], headers=store)
    bad_limit = client.get("/v1/locations/ST-1/fulfilments?limit=0", headers=store)
    bad_cursor = client.get("/v1/locations/ST-1/fulfilments?after=nope", headers=store)

    assert 'rel="next"' in first.headers["Link"] and "limit=2" in first.headers["Link"]
    pages = [[f["id"] for f in page.json] for page in (first, second, third)]
    assert pages == [placed[:2], placed[2:4], placed[4:]]
    assert "Link" not in third.headers
    assert bad_limit.status_code == 422 and bad_cursor.status_code == 422
