"""A location rejects what it cannot ship; the units are re-routed elsewhere at once.

On SQLite and PostgreSQL, through the API. The `spread` stock: A is 10 at ST-1 (New York),
10 at ST-2 (Chicago) and 20 at DC-1 (Cincinnati); B is 5 at DC-1. Web may sell all but two
of a store's units (ledger@1), never the drop-shipper's. A New York order for A goes to ST-1,
and re-routed from there to DC-1, then to ST-2.
"""

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from service.store.models import Event, SettlementRecord, StockPosition
from tests.support import assert_ledger_consistent


def reject(client, headers, fulfilment_id, **body):
    return client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=headers,
                       json={"type": "rejected", "reason": "not_found", **body})


def position(ctx, location, sku="A") -> tuple[int, int]:
    """(on_hand, allocated) of a position."""
    with ctx.sessions() as session:
        row = session.scalars(select(StockPosition).where(
            StockPosition.location_id == location, StockPosition.sku == sku)).one()
        return row.on_hand, row.allocated


def event_types(ctx) -> list[str]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Event.type).order_by(Event.id)))


def placed_at_st1(order, lines=None, **extra):
    placed = order(lines or [{"sku": "A", "quantity": 4}], **extra)
    assert placed.status_code == 201, placed.json
    [fulfilment] = placed.json["fulfilments"]
    assert fulfilment["location"] == "ST-1"
    return placed.json["id"], fulfilment["id"]


def read(client, admin, order_id):
    return client.get(f"/v1/orders/{order_id}", headers=admin).json


def test_a_partial_rejection_frees_the_units_at_once_and_reroutes_them(
        spread, client, admin, headers_for, order, ctx):
    order_id, fulfilment_id = placed_at_st1(order)

    response = reject(client, headers_for("location:ST-1"), fulfilment_id,
                      lines=[{"sku": "A", "quantity": 3}])

    assert response.status_code == 200, response.json
    assert response.json["status"] == "created" and response.json["reason"] == "not_found"
    assert response.json["lines"] == [{"sku": "A", "quantity": 4, "shipped": 0, "cancelled": 0,
                                       "rejected": 3, "open": 1}]
    after = read(client, admin, order_id)
    [kept, rerouted] = after["fulfilments"]
    assert kept["id"] == fulfilment_id and rerouted["location"] == "DC-1"
    assert rerouted["lines"][0]["quantity"] == 3 and after["lines"][0]["allocated"] == 4
    assert position(ctx, "ST-1") == (10, 1) and position(ctx, "DC-1") == (20, 3)
    [decision] = after["explanation"]["reroutes"]
    assert (decision["rejected_by"], decision["reason"]) == ("ST-1", "not_found")
    assert decision["barred"] == {"A": ["ST-1"]}
    assert decision["max_shipments"] == 2  # ledger@1 allows 3; ST-1 still ships one
    assert [s["fulfilment"] for s in decision["shipments"]] == [rerouted["id"]]
    ranked = decision["explanation"]["lines"][0]["ranked"]
    assert "ST-1" not in {c["location"] for c in ranked}  # why DC-1: the ranking without it
    assert event_types(ctx)[-4:] == ["fulfilment.rejected", "fulfilment.requested",
                                     "order.allocated", "fulfilment.rerouted"]
    assert_ledger_consistent(ctx)


def test_a_whole_rejection_closes_the_fulfilment_and_reroutes_every_line(
        spread, client, admin, order, ctx):
    placed = order([{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}])
    [fulfilment] = placed.json["fulfilments"]
    assert fulfilment["location"] == "DC-1"

    response = reject(client, admin, fulfilment["id"], reason="damaged")

    assert response.status_code == 200 and response.json["status"] == "rejected"
    after = read(client, admin, placed.json["id"])
    # A goes to ST-1; B was only at DC-1, which rejected it: backordered
    assert [(f["location"], f["status"]) for f in after["fulfilments"]] == [
        ("DC-1", "rejected"), ("ST-1", "created")]
    assert [(ln["sku"], ln["backordered"]) for ln in after["lines"]] == [("A", 0), ("B", 1)]
    assert after["status"] == "partially_backordered"
    assert position(ctx, "DC-1") == (20, 0) and position(ctx, "DC-1", "B") == (5, 0)
    assert "order.backordered" in event_types(ctx) and "order.status_changed" in event_types(ctx)
    assert_ledger_consistent(ctx)


def test_a_reroute_never_returns_to_a_location_that_rejected_the_line(
        spread, client, admin, order, ctx):
    order_id, first = placed_at_st1(order)
    assert reject(client, admin, first).status_code == 200
    second = read(client, admin, order_id)["fulfilments"][-1]
    assert second["location"] == "DC-1"
    assert reject(client, admin, second["id"]).status_code == 200
    third = read(client, admin, order_id)["fulfilments"][-1]
    assert third["location"] == "ST-2"

    assert reject(client, admin, third["id"]).status_code == 200

    # ST-1 and DC-1 still hold plenty, but they rejected A: it waits for stock
    after = read(client, admin, order_id)
    assert [f["location"] for f in after["fulfilments"]] == ["ST-1", "DC-1", "ST-2"]
    assert after["lines"][0]["backordered"] == 4 and after["status"] == "backordered"
    assert [d["barred"]["A"] for d in after["explanation"]["reroutes"]] == [
        ["ST-1"], ["DC-1", "ST-1"], ["DC-1", "ST-1", "ST-2"]]
    for location in ("ST-1", "ST-2", "DC-1"):
        assert position(ctx, location)[1] == 0
    assert_ledger_consistent(ctx)


def test_an_order_that_does_not_backorder_cancels_what_no_other_location_can_ship(
        spread, client, admin, order, ctx):
    placed = order([{"sku": "B", "quantity": 2}], on_short="ship_available")
    [fulfilment] = placed.json["fulfilments"]

    assert reject(client, admin, fulfilment["id"]).status_code == 200

    after = read(client, admin, placed.json["id"])
    assert after["lines"][0]["cancelled"] == 2 and after["status"] == "cancelled"
    assert "rejected by DC-1" in after["cancel_reason"]
    with ctx.sessions() as session:
        kinds = list(session.scalars(select(SettlementRecord.kind)))
    assert kinds == ["cancelled"]
    assert_ledger_consistent(ctx)


def test_a_rejection_may_count_the_missing_units_off_the_shelf(spread, client, admin, order,
                                                              ctx):
    _order_id, fulfilment_id = placed_at_st1(order)

    response = reject(client, admin, fulfilment_id, lines=[{"sku": "A", "quantity": 3}],
                      adjust_on_hand=True)

    assert response.status_code == 200
    assert position(ctx, "ST-1") == (7, 1)  # its stock is corrected, its last unit kept
    assert_ledger_consistent(ctx)


def test_without_the_adjustment_the_location_keeps_its_stock(spread, client, admin, order,
                                                             ctx):
    _order_id, fulfilment_id = placed_at_st1(order)
    assert reject(client, admin, fulfilment_id).status_code == 200
    assert position(ctx, "ST-1") == (10, 0)


def test_the_units_of_a_rerouted_line_can_still_be_cancelled(spread, client, admin, order,
                                                            ctx):
    order_id, fulfilment_id = placed_at_st1(order)
    reject(client, admin, fulfilment_id, lines=[{"sku": "A", "quantity": 3}])

    cancelled = client.post(f"/v1/orders/{order_id}/cancel", headers=admin, json={})

    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["lines"][0]["cancelled"] == 4
    assert position(ctx, "ST-1")[1] == 0 and position(ctx, "DC-1")[1] == 0
    assert_ledger_consistent(ctx)


def nothing_written(ctx, before):
    assert (event_types(ctx), position(ctx, "ST-1"), position(ctx, "DC-1")) == before


def test_rejecting_more_than_is_open_is_refused_naming_the_quantity(spread, client, admin,
                                                                   order, ctx):
    _order_id, fulfilment_id = placed_at_st1(order)
    before = (event_types(ctx), position(ctx, "ST-1"), position(ctx, "DC-1"))

    response = reject(client, admin, fulfilment_id, lines=[{"sku": "A", "quantity": 5}])

    assert response.status_code == 422
    assert [p["pointer"] for p in response.json["problems"]] == ["/lines/0/quantity"]
    assert "only 4 of A" in response.json["problems"][0]["message"]
    nothing_written(ctx, before)


def test_rejecting_a_line_the_fulfilment_does_not_have_is_refused_naming_it(
        spread, client, admin, order, ctx):
    _order_id, fulfilment_id = placed_at_st1(order)
    before = (event_types(ctx), position(ctx, "ST-1"), position(ctx, "DC-1"))

    response = reject(client, admin, fulfilment_id,
                      lines=[{"sku": "B"}, {"sku": "A", "quantity": 1}, {"sku": "A"}])

    assert response.status_code == 422
    assert [p["pointer"] for p in response.json["problems"]] == ["/lines/0/sku",
                                                                 "/lines/2/sku"]
    nothing_written(ctx, before)


def test_rejecting_a_shipped_fulfilment_is_a_conflict_naming_the_type(spread, client, admin,
                                                                      order, ctx):
    _order_id, fulfilment_id = placed_at_st1(order)
    shipped = client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                          json={"type": "shipped"})
    assert shipped.status_code == 200
    before = (event_types(ctx), position(ctx, "ST-1"), position(ctx, "DC-1"))

    response = reject(client, admin, fulfilment_id)

    assert response.status_code == 409
    assert response.json["problems"][0]["pointer"] == "/type"
    assert "shipped" in response.json["detail"]
    nothing_written(ctx, before)


def test_a_rejection_says_why_and_only_a_rejection_names_lines(spread, client, admin, order,
                                                               ctx):
    _order_id, fulfilment_id = placed_at_st1(order)
    before = (event_types(ctx), position(ctx, "ST-1"), position(ctx, "DC-1"))

    no_reason = reject(client, admin, fulfilment_id, reason=" ")
    bad_quantity = reject(client, admin, fulfilment_id, lines=[{"sku": "A", "quantity": 0}])
    lines_on_accept = client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                                  json={"type": "accepted", "lines": [{"sku": "A"}],
                                        "adjust_on_hand": True})

    assert no_reason.status_code == 422 and no_reason.json["problems"][0]["pointer"] == "/reason"
    assert bad_quantity.status_code == 422
    assert bad_quantity.json["problems"][0]["pointer"] == "/lines/0/quantity"
    assert lines_on_accept.status_code == 422
    assert {p["pointer"] for p in lines_on_accept.json["problems"]} == {"/lines",
                                                                        "/adjust_on_hand"}
    nothing_written(ctx, before)


def test_a_location_key_rejects_only_its_own_fulfilments(spread, client, order, headers_for,
                                                         ctx):
    _order_id, fulfilment_id = placed_at_st1(order)

    other = reject(client, headers_for("location:DC-1"), fulfilment_id)
    channel = reject(client, headers_for("channel:web"), fulfilment_id)

    assert other.status_code == 404 and channel.status_code == 404
    assert position(ctx, "ST-1") == (10, 4)


def test_the_outbox_tells_who_rejected_why_and_where_the_units_went(spread, client, admin,
                                                                    order, ctx):
    order_id, fulfilment_id = placed_at_st1(order)
    reject(client, admin, fulfilment_id, lines=[{"sku": "A", "quantity": 3}])
    new_id = read(client, admin, order_id)["fulfilments"][-1]["id"]

    with ctx.sessions() as session:
        events = {e.type: e for e in session.scalars(
            select(Event).where(Event.aggregate_id.in_([fulfilment_id, new_id]))
            .order_by(Event.id))}  # the newer of the two fulfilment.requested: the new one's
        count = session.scalar(select(func.count()).select_from(Event))
    assert events["fulfilment.rejected"].payload["lines"] == [{"sku": "A", "quantity": 3}]
    assert events["fulfilment.rejected"].payload["reason"] == "not_found"
    rerouted = events["fulfilment.rerouted"].payload
    assert rerouted["location"] == "ST-1" and rerouted["to"][0]["location"] == "DC-1"
    assert events["fulfilment.requested"].payload["rerouted_from"] == fulfilment_id
    assert count == 7  # placed, requested, allocated; then these three, and re-allocated


def test_a_rejection_sent_again_with_its_time_is_a_retry_that_changes_nothing(
        spread, app, client, admin, order, ctx):
    order_id, fulfilment_id = placed_at_st1(order)
    at = datetime.now(UTC).isoformat()
    body = {"lines": [{"sku": "A", "quantity": 2}], "at": at}
    answers: list[tuple[int, list]] = []

    def send() -> None:
        response = reject(app.test_client(), admin, fulfilment_id, **body)
        answers.append((response.status_code, response.json["lines"]))

    workers = [threading.Thread(target=send) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    send()

    assert {(code, lines[0]["rejected"]) for code, lines in answers} == {(200, 2)}
    after = read(client, admin, order_id)
    assert len(after["fulfilments"]) == 2 and len(after["explanation"]["reroutes"]) == 1
    assert position(ctx, "ST-1")[1] == 2 and event_types(ctx).count("fulfilment.rejected") == 1
    # without its time, the same body is another rejection of what is still open
    assert reject(client, admin, fulfilment_id, lines=body["lines"]).status_code == 200
    assert position(ctx, "ST-1")[1] == 0
    assert_ledger_consistent(ctx)
