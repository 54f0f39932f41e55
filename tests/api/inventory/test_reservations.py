"""Holds lower availability at once; release and expiry give it back."""

import time

import pytest

from tests.support import T1, snapshot


@pytest.fixture
def stocked(small_network, push):
    push("snapshots", snapshot("DC-1", T1, {"A": 10}))
    push("snapshots", snapshot("ST-1", T1, {"A": 5}))
    return small_network


def hold(client, headers, **body):
    return client.post("/v1/reservations", json={"channel": "web", "sku": "A", **body},
                       headers=headers)


def test_a_hold_lowers_availability_at_once(stocked, client, admin, ats):
    response = hold(client, admin, quantity=4)
    assert response.status_code == 201 and response.json["location"] == "DC-1"
    assert ats("web", "A") == 13 - 4


def test_releasing_a_hold_gives_the_units_back(stocked, client, admin, ats):
    hold_id = hold(client, admin, quantity=4).json["id"]
    response = client.delete(f"/v1/reservations/{hold_id}", headers=admin)
    assert response.json["status"] == "released" and ats("web", "A") == 13


def test_a_hold_at_a_location_respects_that_channels_buffer(stocked, client, admin):
    assert hold(client, admin, quantity=4, location="ST-1").status_code == 409  # 5 - 2 = 3
    assert hold(client, admin, quantity=3, location="ST-1").status_code == 201


def test_more_than_the_channel_may_sell_is_refused(stocked, client, admin):
    response = hold(client, admin, quantity=11)
    assert response.status_code == 409 and response.json["code"] == "insufficient_stock"


def test_an_expired_hold_is_never_counted_by_a_read(stocked, client, admin, ats):
    hold(client, admin, quantity=6, ttl_seconds=1)
    assert ats("web", "A") == 7
    time.sleep(1.2)
    assert ats("web", "A") == 13


def test_an_expired_hold_is_never_counted_by_a_detail_read(stocked, client, admin):
    hold(client, admin, quantity=6, ttl_seconds=1)
    time.sleep(1.2)
    response = client.get("/v1/availability?channel=web&sku=A&detail=locations", headers=admin)
    assert response.status_code == 200 and response.json["items"][0]["available"] == 13


def test_the_expiry_job_frees_overdue_holds(stocked, client, admin, ctx):
    from service.services import reservations

    hold(client, admin, quantity=2, ttl_seconds=1)
    time.sleep(1.2)
    assert reservations.expire(ctx) == 1 and reservations.expire(ctx) == 0


def test_a_channel_key_holds_only_for_its_channel(stocked, client, headers_for):
    key = headers_for("channel:marketplace")
    assert hold(client, key, quantity=1).status_code == 403


def test_a_bad_hold_request_names_every_problem(stocked, client, admin):
    response = client.post("/v1/reservations", headers=admin,
                           json={"channel": "web", "quantity": 0, "colour": "red"})
    pointers = {p["pointer"] for p in response.json["problems"]}
    assert response.status_code == 422 and {"", "/quantity"} <= pointers


def deadlines(ctx) -> dict:
    from sqlalchemy import select

    from service.store.models import HoldDeadline

    with ctx.sessions() as session:
        return dict(session.execute(select(HoldDeadline.sku, HoldDeadline.due_at)).all())


def test_a_hold_sets_its_skus_deadline_and_only_an_earlier_hold_moves_it(stocked, client,
                                                                          admin, ctx):
    later = hold(client, admin, quantity=1, ttl_seconds=600).json
    assert deadlines(ctx)["A"].isoformat() == later["expires_at"]
    earlier = hold(client, admin, quantity=1, ttl_seconds=60).json
    hold(client, admin, quantity=1, ttl_seconds=900)
    assert deadlines(ctx)["A"].isoformat() == earlier["expires_at"]


def test_a_read_past_the_deadline_frees_the_overdue_hold_and_moves_on_to_the_next(
        stocked, client, admin, ctx, ats):
    hold(client, admin, quantity=2, ttl_seconds=1)
    following = hold(client, admin, quantity=3, ttl_seconds=600).json
    assert ats("web", "A") == 13 - 5
    time.sleep(1.2)
    assert ats("web", "A") == 13 - 3
    assert deadlines(ctx)["A"].isoformat() == following["expires_at"]


def test_a_deadline_left_by_a_released_hold_is_removed_by_the_next_read_after_it(
        stocked, client, admin, ctx, ats):
    hold_id = hold(client, admin, quantity=2, ttl_seconds=1).json["id"]
    client.delete(f"/v1/reservations/{hold_id}", headers=admin)
    assert "A" in deadlines(ctx)  # left early: harmless, it only asks for one expiry pass
    time.sleep(1.2)
    assert ats("web", "A") == 13 and deadlines(ctx) == {}


def test_the_expiry_job_removes_deadlines_that_passed_with_no_hold_left(stocked, client,
                                                                        admin, ctx):
    from service.services import reservations

    hold_id = hold(client, admin, quantity=2, ttl_seconds=1).json["id"]
    client.delete(f"/v1/reservations/{hold_id}", headers=admin)
    time.sleep(1.2)
    assert reservations.expire(ctx) == 0 and deadlines(ctx) == {}
