"""The webhooks API (admin): subscriptions with a secret shown once, the deliveries and their
attempts paged by Link, retry and replay, and clear 4xx problems that write nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.services.notifications import delivery
from service.store.models import Event, WebhookDelivery, WebhookSubscription

BODY = {"url": "http://127.0.0.1:9/hook", "events": ["order.*", "fulfilment.*"]}


def count(ctx, model):
    with ctx.reading() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def add_events(ctx, n, type_="order.placed"):
    now = datetime.now(UTC)
    with ctx.transaction() as uow:
        uow.session.add_all([Event(aggregate_type="order", aggregate_id=f"O{i}", type=type_,
                                   payload={"i": i}, created_at=now) for i in range(n)])


def test_a_subscription_answers_its_secret_once_and_never_again(client, admin, ctx):
    answer = client.post("/v1/webhooks/subscriptions", json=BODY, headers=admin)
    assert answer.status_code == 201
    body = answer.json
    assert body["secret"].startswith("whsec_") and len(body["secret"]) >= 6 + 32
    assert body["events"] == BODY["events"] and body["source"] == "api" and body["active"]
    listed = client.get("/v1/webhooks/subscriptions", headers=admin).json["items"]
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0]


@pytest.mark.parametrize("bad", [
    {"events": ["order.*"]}, {"url": "ftp://x", "events": ["order.*"]},
    {"url": "http://x", "events": []}, {"url": "http://x", "events": ["order placed"]},
    {"url": "http://x", "events": ["*"], "color": "red"}, {"url": "http://x", "events": "*"}])
def test_a_bad_subscription_is_a_422_that_writes_nothing(client, admin, ctx, bad):
    answer = client.post("/v1/webhooks/subscriptions", json=bad, headers=admin)
    assert answer.status_code == 422 and answer.json["problems"]
    assert answer.mimetype == "application/problem+json"
    assert count(ctx, WebhookSubscription) == 0


def test_only_admin_keys_manage_webhooks(client, headers_for, ctx):
    for role in ("channel:web", "location:DC-1"):
        headers = headers_for(role)
        assert client.post("/v1/webhooks/subscriptions", json=BODY,
                           headers=headers).status_code == 403
        assert client.get("/v1/webhooks/deliveries", headers=headers).status_code == 403
    assert count(ctx, WebhookSubscription) == 0


def test_deleting_a_subscription_hides_it_and_a_second_delete_is_a_404(client, admin):
    sub = client.post("/v1/webhooks/subscriptions", json=BODY, headers=admin).json
    assert client.delete(f"/v1/webhooks/subscriptions/{sub['id']}",
                         headers=admin).status_code == 204
    assert client.get("/v1/webhooks/subscriptions", headers=admin).json["items"] == []
    assert client.delete(f"/v1/webhooks/subscriptions/{sub['id']}",
                         headers=admin).status_code == 404


def test_deliveries_are_paged_newest_first_with_a_link_to_the_next_page(client, admin, ctx):
    client.post("/v1/webhooks/subscriptions", json=BODY, headers=admin)
    add_events(ctx, 5)
    delivery.route(ctx)
    first = client.get("/v1/webhooks/deliveries?status=pending&limit=3", headers=admin)
    assert first.status_code == 200 and len(first.json["items"]) == 3
    ids = [d["id"] for d in first.json["items"]]
    assert ids == sorted(ids, reverse=True)
    link = first.headers["Link"]
    assert link.startswith("</v1/webhooks/deliveries?") and 'rel="next"' in link
    second = client.get(link[1:link.index(">")], headers=admin).json
    assert len(second["items"]) == 2 and second["next"] is None
    assert min(ids) > max(d["id"] for d in second["items"])
    assert client.get("/v1/webhooks/deliveries?status=dead", headers=admin).json["items"] == []


@pytest.mark.parametrize("query", ["status=lost", "after=x", "limit=0", "after=0"])
def test_a_bad_delivery_query_is_a_422(client, admin, query):
    answer = client.get(f"/v1/webhooks/deliveries?{query}", headers=admin)
    assert answer.status_code == 422 and answer.json["problems"]


def test_retrying_a_delivery_makes_it_pending_now_and_an_unknown_one_is_a_404(client, admin,
                                                                             ctx):
    client.post("/v1/webhooks/subscriptions", json=BODY, headers=admin)
    add_events(ctx, 1)
    delivery.route(ctx)
    with ctx.transaction() as uow:
        uow.session.execute(WebhookDelivery.__table__.update().values(status="dead",
                                                                      attempts=12))
        delivery_id = uow.session.scalar(select(WebhookDelivery.id))
    answer = client.post(f"/v1/webhooks/deliveries/{delivery_id}/retry", headers=admin)
    assert answer.status_code == 202
    assert answer.json["status"] == "pending" and answer.json["attempts"] == 0
    assert client.post("/v1/webhooks/deliveries/99999/retry", headers=admin).status_code == 404
    with ctx.transaction() as uow:
        uow.session.execute(WebhookDelivery.__table__.update().values(status="in_flight"))
    busy = client.post(f"/v1/webhooks/deliveries/{delivery_id}/retry", headers=admin)
    assert busy.status_code == 409 and busy.json["code"] == "delivery_in_flight"


def test_a_replay_queues_the_wanted_events_from_an_id_and_refuses_bad_input(client, admin,
                                                                           ctx):
    sub = client.post("/v1/webhooks/subscriptions", json=BODY, headers=admin).json
    add_events(ctx, 4)
    add_events(ctx, 2, type_="transfer.shipped")
    delivery.route(ctx)
    with ctx.reading() as uow:
        first = uow.session.scalar(select(func.min(Event.id)))
    url = f"/v1/webhooks/subscriptions/{sub['id']}/replay"
    answer = client.post(url, json={"from_event_id": first + 1}, headers=admin)
    assert answer.status_code == 202 and answer.json["queued"] == 3
    for bad in ({}, {"from_event_id": 0}, {"from_event_id": "1"}, {"from_event_id": 2**31}):
        assert client.post(url, json=bad, headers=admin).status_code == 422
    assert client.post("/v1/webhooks/subscriptions/whs_none/replay", json={
        "from_event_id": 1}, headers=admin).status_code == 404


def test_a_subscription_config_declares_cannot_be_deleted_through_the_api(client, admin, ctx):
    from service.services.notifications import subscriptions

    row = {**subscriptions.new_row(ctx, {"url": "http://127.0.0.1:9/c", "events": ["*"]},
                                subscriptions.new_secret(), "config", "from-file", None)}
    with ctx.transaction() as uow:
        uow.webhooks.add(row)
    answer = client.delete(f"/v1/webhooks/subscriptions/{row['id']}", headers=admin)
    assert answer.status_code == 409 and answer.json["code"] == "subscription_from_config"
    listed = client.get("/v1/webhooks/subscriptions", headers=admin).json["items"]
    assert [s["source"] for s in listed] == ["config"]


def test_a_disabled_subscription_is_enabled_again_and_an_unknown_one_is_a_404(client, admin,
                                                                             ctx):
    sub = client.post("/v1/webhooks/subscriptions", json=BODY, headers=admin).json
    with ctx.transaction() as uow:
        uow.webhooks.change(sub["id"], disabled_at=datetime.now(UTC),
                            disabled_reason="the receiver answered 410 Gone")
    assert client.get("/v1/webhooks/subscriptions",
                      headers=admin).json["items"][0]["active"] is False
    url = f"/v1/webhooks/subscriptions/{sub['id']}/enable"
    for _twice in range(2):  # enabling an active subscription answers it as it is
        answer = client.post(url, headers=admin)
        assert answer.status_code == 200
        assert answer.json["active"] is True and answer.json["disabled_at"] is None
        assert answer.json["disabled_reason"] is None and "secret" not in answer.json
    with ctx.reading() as uow:
        assert uow.webhooks.active()[0]["id"] == sub["id"]
    assert client.post("/v1/webhooks/subscriptions/whs_none/enable",
                       headers=admin).status_code == 404


def test_only_an_admin_key_enables_a_subscription(client, admin, headers_for, ctx):
    sub = client.post("/v1/webhooks/subscriptions", json=BODY, headers=admin).json
    with ctx.transaction() as uow:
        uow.webhooks.change(sub["id"], disabled_at=datetime.now(UTC), disabled_reason="410")
    for role in ("channel:web", "location:DC-1"):
        answer = client.post(f"/v1/webhooks/subscriptions/{sub['id']}/enable",
                             headers=headers_for(role))
        assert answer.status_code == 403
    with ctx.reading() as uow:
        assert uow.webhooks.active() == []
