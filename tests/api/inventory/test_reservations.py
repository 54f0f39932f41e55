"""Reservations lower availability at once; release and expiry give it back.

Time moves on the service's own clock (a MovableClock): no test sleeps for a TTL to pass.
"""

import pytest
from sqlalchemy import select

from service.clock import MovableClock
from service.services.inventory import reservations
from service.store.models import ReservationDeadline
from tests.support import T1, snapshot


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def stocked(small_network, push):
    push("snapshots", snapshot("DC-1", T1, {"A": 10}))
    push("snapshots", snapshot("ST-1", T1, {"A": 5}))
    return small_network


def reserve(client, headers, **body):
    return client.post("/v1/reservations", json={"channel": "web", "sku": "A", **body},
                       headers=headers)


def deadlines(ctx) -> dict:
    with ctx.sessions() as session:
        return dict(session.execute(
            select(ReservationDeadline.sku, ReservationDeadline.due_at)).all())


def test_a_reservation_lowers_availability_at_once(stocked, client, admin, ats):
    response = reserve(client, admin, quantity=4)
    assert response.status_code == 201 and response.json["location"] == "DC-1"
    assert ats("web", "A") == 13 - 4


def test_releasing_a_reservation_gives_the_units_back(stocked, client, admin, ats):
    reservation_id = reserve(client, admin, quantity=4).json["id"]
    response = client.delete(f"/v1/reservations/{reservation_id}", headers=admin)
    assert response.json["status"] == "released" and ats("web", "A") == 13


def test_a_reservation_at_a_location_respects_that_channels_buffer(stocked, client, admin):
    assert reserve(client, admin, quantity=4, location="ST-1").status_code == 409  # 5 - 2 = 3
    assert reserve(client, admin, quantity=3, location="ST-1").status_code == 201


def test_more_than_the_channel_may_sell_is_refused(stocked, client, admin):
    response = reserve(client, admin, quantity=11)
    assert response.status_code == 409 and response.json["code"] == "insufficient_stock"


def test_an_expired_reservation_is_never_counted_by_a_read(stocked, client, admin, ats, clock):
    reserve(client, admin, quantity=6, ttl_seconds=60)
    clock.advance(59)
    assert ats("web", "A") == 7
    clock.advance(1)
    assert ats("web", "A") == 13


def test_an_expired_reservation_is_never_counted_by_a_detail_read(stocked, client, admin,
                                                                 clock):
    reserve(client, admin, quantity=6, ttl_seconds=60)
    clock.advance(60)
    response = client.get("/v1/availability?channel=web&sku=A&detail=locations", headers=admin)
    assert response.status_code == 200 and response.json["items"][0]["available"] == 13


def test_the_expiry_job_frees_overdue_reservations(stocked, client, admin, ctx, clock):
    reserve(client, admin, quantity=2, ttl_seconds=60)
    assert reservations.expire(ctx) == 0
    clock.advance(61)
    assert reservations.expire(ctx) == 1 and reservations.expire(ctx) == 0


def test_a_channel_key_reserves_only_for_its_channel(stocked, client, headers_for):
    key = headers_for("channel:marketplace")
    assert reserve(client, key, quantity=1).status_code == 403


def test_another_channels_reservation_cannot_be_released_and_is_not_found(
        stocked, client, admin, headers_for, ats):
    reservation_id = reserve(client, admin, quantity=4).json["id"]
    response = client.delete(f"/v1/reservations/{reservation_id}",
                             headers=headers_for("channel:marketplace"))
    assert response.status_code == 404 and ats("web", "A") == 13 - 4


def test_a_bad_reservation_request_names_every_problem(stocked, client, admin):
    response = client.post("/v1/reservations", headers=admin,
                           json={"channel": "web", "quantity": 0, "colour": "red"})
    pointers = {p["pointer"] for p in response.json["problems"]}
    assert response.status_code == 422 and {"", "/quantity"} <= pointers


def test_a_reservation_sets_its_skus_deadline_and_only_an_earlier_one_moves_it(
        stocked, client, admin, ctx):
    later = reserve(client, admin, quantity=1, ttl_seconds=600).json
    assert deadlines(ctx)["A"].isoformat() == later["expires_at"]
    earlier = reserve(client, admin, quantity=1, ttl_seconds=60).json
    reserve(client, admin, quantity=1, ttl_seconds=900)
    assert deadlines(ctx)["A"].isoformat() == earlier["expires_at"]


def test_a_read_past_the_deadline_frees_the_overdue_reservation_and_moves_on_to_the_next(
        stocked, client, admin, ctx, ats, clock):
    reserve(client, admin, quantity=2, ttl_seconds=60)
    following = reserve(client, admin, quantity=3, ttl_seconds=600).json
    assert ats("web", "A") == 13 - 5
    clock.advance(61)
    assert ats("web", "A") == 13 - 3
    assert deadlines(ctx)["A"].isoformat() == following["expires_at"]


def test_a_deadline_left_by_a_released_reservation_is_removed_by_the_next_read_after_it(
        stocked, client, admin, ctx, ats, clock):
    reservation_id = reserve(client, admin, quantity=2, ttl_seconds=60).json["id"]
    client.delete(f"/v1/reservations/{reservation_id}", headers=admin)
    assert "A" in deadlines(ctx)  # left early: harmless, it only asks for one expiry pass
    clock.advance(61)
    assert ats("web", "A") == 13 and deadlines(ctx) == {}


def test_the_expiry_job_removes_deadlines_that_passed_with_no_reservation_left(
        stocked, client, admin, ctx, clock):
    reservation_id = reserve(client, admin, quantity=2, ttl_seconds=60).json["id"]
    client.delete(f"/v1/reservations/{reservation_id}", headers=admin)
    clock.advance(61)
    assert reservations.expire(ctx) == 0 and deadlines(ctx) == {}
