"""What a channel sees of its order: each fulfilment's tracking and times, why it was
cancelled, and where a new order lives (on SQLite and PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.clock import MovableClock
from service.store.models import Event

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


def events(ctx, type_):
    with ctx.sessions() as session:
        return [e.payload for e in session.scalars(
            select(Event).where(Event.type == type_).order_by(Event.id))]


def test_the_order_shows_each_fulfilments_tracking_and_when_it_shipped_and_was_delivered(
        stocked, order, client, admin, clock):
    placed = order([{"sku": "A", "quantity": 2}]).json
    fulfilment_id = placed["fulfilments"][0]["id"]
    assert placed["fulfilments"][0] | {"lines": []} == {
        "id": fulfilment_id, "location": "ST-1", "status": "created", "cost":
        placed["fulfilments"][0]["cost"], "tracking": None, "shipped_at": None,
        "delivered_at": None, "reason": None, "lines": []}
    clock.advance(3600)
    client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                json={"type": "shipped", "tracking": "1Z999", "at": "2026-12-01T09:30:00Z"})
    clock.advance(86400)
    client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                json={"type": "delivered"})
    [seen] = client.get(f"/v1/orders/{placed['id']}", headers=admin).json["fulfilments"]
    assert (seen["status"], seen["tracking"]) == ("delivered", "1Z999")
    assert datetime.fromisoformat(seen["shipped_at"]) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert datetime.fromisoformat(seen["delivered_at"]) == clock.now()


def test_the_location_sees_when_its_fulfilment_was_delivered(stocked, order, client, admin,
                                                              clock):
    fulfilment_id = order([{"sku": "A", "quantity": 1}]).json["fulfilments"][0]["id"]
    client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                json={"type": "shipped"})
    clock.advance(60)
    answer = client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                         json={"type": "delivered", "at": "2026-12-01T09:00:30Z"}).json
    assert datetime.fromisoformat(answer["delivered_at"]) == datetime(2026, 12, 1, 9, 0, 30,
                                                                     tzinfo=UTC)
    [queued] = client.get("/v1/locations/ST-1/fulfilments?status=delivered",
                          headers=admin).json
    assert queued["delivered_at"] == answer["delivered_at"]


def test_the_cancel_reason_is_kept_on_the_order_its_fulfilments_and_the_outbox(
        stocked, order, client, admin, ctx):
    placed = order([{"sku": "A", "quantity": 2}]).json
    response = client.post(f"/v1/orders/{placed['id']}/cancel", headers=admin,
                           json={"reason": "customer changed their mind"})
    assert response.status_code == 200
    read = client.get(f"/v1/orders/{placed['id']}", headers=admin).json
    for shown in (response.json, read):
        assert shown["cancel_reason"] == "customer changed their mind"
        assert [f["reason"] for f in shown["fulfilments"]] == ["customer changed their mind"]
    [event] = events(ctx, "order.cancelled")
    assert event["reason"] == "customer changed their mind"
    [event] = events(ctx, "fulfilment.cancelled")
    assert event["reason"] == "customer changed their mind"


def test_the_location_sees_why_its_fulfilment_was_cancelled(stocked, order, client, admin):
    placed = order([{"sku": "A", "quantity": 2}]).json
    client.post(f"/v1/orders/{placed['id']}/cancel", headers=admin, json={"reason": "fraud"})
    [queued] = client.get("/v1/locations/ST-1/fulfilments?status=cancelled",
                          headers=admin).json
    assert (queued["status"], queued["reason"]) == ("cancelled", "fraud")


def test_a_cancel_without_a_reason_keeps_the_reason_given_before(stocked, order, client, admin):
    placed = order([{"sku": "A", "quantity": 4}]).json
    client.post(f"/v1/orders/{placed['id']}/cancel", headers=admin,
                json={"reason": "one too many", "lines": [{"sku": "A", "quantity": 1}]})
    response = client.post(f"/v1/orders/{placed['id']}/cancel", headers=admin)
    assert response.json["status"] == "cancelled"
    assert response.json["cancel_reason"] == "one too many"


def test_a_placed_order_answers_with_where_it_lives(stocked, order, client, admin):
    placed = order([{"sku": "A", "quantity": 1}], key="located")
    assert placed.status_code == 201
    assert placed.headers["Location"] == f"/v1/orders/{placed.json['id']}"
    assert client.get(placed.headers["Location"], headers=admin).status_code == 200
    replay = order([{"sku": "A", "quantity": 1}], key="located")
    assert replay.headers["Location"] == placed.headers["Location"]


def test_a_reservation_answers_with_where_it_lives(stocked, client, admin):
    made = client.post("/v1/reservations", headers=admin,
                       json={"channel": "web", "sku": "A", "quantity": 1})
    assert made.status_code == 201
    assert made.headers["Location"] == f"/v1/reservations/{made.json['id']}"
    assert client.delete(made.headers["Location"], headers=admin).status_code == 200
