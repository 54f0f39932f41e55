"""Delivering the outbox to a real receiver: signed (Standard Webhooks), every event, in order
per order, retried with backoff through failures and a timeout; 410 disables; dead letters;
retry and replay."""

from __future__ import annotations

import time
from collections import defaultdict

from sqlalchemy import select

from service.domain.webhooks import OutboxEvent, order_key
from service.services.notifications import delivery, subscriptions
from service.store.models import WebhookDelivery, WebhookSubscription
from tests.integration.webhooks.conftest import outbox, place_orders, pump


def subscribe(ctx, receiver, path, events=("*",), **filters):
    created = subscriptions.create(ctx, {"url": receiver.url(path), "events": list(events),
                                         **filters}, None)
    receiver.secrets[path] = created["secret"]
    return created


def lanes(ctx):
    """Each event id's order lane, from the outbox."""
    return {str(e.id): order_key(OutboxEvent(e.id, e.aggregate_type, e.aggregate_id, e.type,
                                             e.payload)) for e in outbox(ctx)}


def first_arrivals(received):
    seen, order = set(), []
    for r in received:
        if r.webhook_id not in seen:
            seen.add(r.webhook_id)
            order.append(r.webhook_id)
    return order


def test_every_event_arrives_signed_and_in_order_per_order_through_failures_and_a_timeout(
        stocked, receiver):
    def plan(_id, nth, _path):  # two 500s, then a timeout, then it takes it
        return {1: (500, 0.0), 2: (500, 0.0), 3: (500, 0.45)}.get(nth, (204, 0.0))

    receiver.plan = plan
    sub = subscribe(stocked, receiver, "/all")
    place_orders(stocked, 6)
    wanted = {str(e.id) for e in outbox(stocked)}
    assert pump(stocked, lambda: {r.webhook_id for r in receiver.accepted()} >= wanted)
    lane_of = lanes(stocked)
    per_lane = defaultdict(list)
    for webhook_id in first_arrivals(receiver.accepted()):
        per_lane[lane_of[webhook_id]].append(int(webhook_id))
    assert all(ids == sorted(ids) for ids in per_lane.values()) and len(per_lane) == 6
    assert receiver.bad_signatures == 0
    assert {r.webhook_id for r in receiver.accepted()} == wanted
    type_of = {str(e.id): e.type for e in outbox(stocked)}
    bodies = [r.body for r in receiver.accepted()]
    assert all(set(b) == {"type", "version", "timestamp", "data"} and b["version"] >= 1
               for b in bodies)
    assert all(r.body["type"] == type_of[r.webhook_id] for r in receiver.accepted())
    [one] = [d for d in delivery.listed(stocked, "delivered", None, 500)
             if d["event_id"] == min(map(int, wanted))]
    assert one["subscription"] == sub["id"] and one["attempts"] == 4
    log = one["attempt_log"]
    assert [a["outcome"] for a in log] == ["failed", "failed", "failed", "delivered"]
    assert [a["status_code"] for a in log] == [500, 500, None, 204]
    assert log[2]["error"].startswith("timeout") and log[2]["latency_ms"] >= 250


def test_a_location_subscriber_gets_only_the_fulfilment_events_naming_it(stocked, receiver):
    subscribe(stocked, receiver, "/dc", events=("fulfilment.*",), location="DC-1")
    subscribe(stocked, receiver, "/orders", events=("order.*",))
    place_orders(stocked, 4)
    events = outbox(stocked)
    for_dc = {str(e.id) for e in events
              if e.type.startswith("fulfilment.") and e.payload.get("location") == "DC-1"}
    orders = {str(e.id) for e in events if e.type.startswith("order.")}
    assert for_dc and orders
    assert pump(stocked, lambda: len(receiver.accepted()) >= len(for_dc) + len(orders))
    assert {r.webhook_id for r in receiver.accepted("/dc")} == for_dc
    assert {r.webhook_id for r in receiver.accepted("/orders")} == orders


def test_a_channel_filter_takes_only_that_channels_orders(stocked, receiver):
    subscribe(stocked, receiver, "/web", channel="web")
    subscribe(stocked, receiver, "/app", channel="app")
    place_orders(stocked, 2, accept=False)
    count = len(outbox(stocked))
    assert pump(stocked, lambda: len(receiver.accepted("/web")) >= count)
    assert receiver.accepted("/app") == []


def test_a_410_gone_disables_the_subscription_and_nothing_more_is_sent(stocked, receiver):
    receiver.plan = lambda _id, _nth, _path: (410, 0.0)
    sub = subscribe(stocked, receiver, "/gone")
    place_orders(stocked, 3, accept=False)
    assert pump(stocked, lambda: sum(receiver.requests.values()) >= 1)
    first_batch = sum(receiver.requests.values())  # the heads of the 3 orders, sent at once
    pump(stocked, lambda: False, seconds=0.5)
    assert sum(receiver.requests.values()) == first_batch <= 3
    with stocked.reading() as uow:
        row = uow.session.get(WebhookSubscription, sub["id"])
        assert row.disabled_at is not None and "410" in row.disabled_reason
    assert subscriptions.listed(stocked)[0]["active"] is False


def test_a_subscription_enabled_again_after_a_410_receives_what_was_held_and_what_follows(
        stocked, receiver):
    gone = {"on": True}
    receiver.plan = lambda _id, _nth, _path: (410, 0.0) if gone["on"] else (200, 0.0)
    sub = subscribe(stocked, receiver, "/back")
    place_orders(stocked, 2, accept=False)
    assert pump(stocked, lambda: not subscriptions.listed(stocked)[0]["active"])
    held = {str(e.id) for e in outbox(stocked)}
    gone["on"] = False
    assert subscriptions.enable(stocked, sub["id"])["active"] is True
    assert pump(stocked, lambda: arrived(receiver, "/back") >= held)
    place_orders(stocked, 1, accept=False)
    every = {str(e.id) for e in outbox(stocked)}
    assert every > held and pump(stocked, lambda: arrived(receiver, "/back") >= every)
    assert arrived(receiver, "/back") == every


def arrived(receiver, path):
    """The webhook ids a path took (2xx)."""
    return {r.webhook_id for r in receiver.accepted(path)}


def test_a_delivery_is_dead_after_the_last_attempt_and_a_retry_sends_it_again(
        stocked, receiver, webhooks_config):
    failing = {"on": True}
    receiver.plan = lambda _id, _nth, _path: (503, 0.0) if failing["on"] else (200, 0.0)
    # one event per order (order.* is two now: placed and allocated), so nothing waits behind it
    subscribe(stocked, receiver, "/dead", events=("order.placed",))
    place_orders(stocked, 1, accept=False)
    attempts = webhooks_config["max_attempts"]
    assert pump(stocked, lambda: bool(delivery.listed(stocked, "dead", None, 10)))
    [dead] = delivery.listed(stocked, "dead", None, 10)
    assert dead["attempts"] == attempts and len(dead["attempt_log"]) == attempts
    assert receiver.requests[str(dead["event_id"])] == attempts
    failing["on"] = False
    assert delivery.retry(stocked, dead["id"])["status"] == "pending"
    assert pump(stocked, lambda: bool(receiver.accepted("/dead")))
    assert receiver.accepted("/dead")[0].webhook_id == str(dead["event_id"])


def test_a_replay_sends_every_wanted_event_again_from_an_event_id_in_order(stocked, receiver):
    subscribe(stocked, receiver, "/replay")
    place_orders(stocked, 3)
    ids = [e.id for e in outbox(stocked)]
    assert pump(stocked, lambda: len(receiver.accepted()) == len(ids))
    start = ids[len(ids) // 2]
    sub_id = subscriptions.listed(stocked)[0]["id"]
    result = subscriptions.replay(stocked, sub_id, {"from_event_id": start})
    assert result["queued"] == len([i for i in ids if i >= start])
    assert pump(stocked, lambda: len(receiver.accepted()) == len(ids) + result["queued"])
    again = [int(r.webhook_id) for r in receiver.accepted()[len(ids):]]
    assert sorted(again) == [i for i in ids if i >= start]


def test_the_secret_is_stored_sealed_never_in_clear(stocked, receiver):
    created = subscribe(stocked, receiver, "/s")
    assert created["secret"].startswith("whsec_")
    with stocked.reading() as uow:
        sealed = uow.session.scalar(select(WebhookSubscription.secret_encrypted))
        raw = uow.session.execute(select(WebhookSubscription.__table__)).one()
    assert created["secret"] not in sealed and created["secret"][6:] not in str(raw)
    assert subscriptions.box().open(sealed) == created["secret"]
    assert "secret" not in subscriptions.listed(stocked)[0]


def test_a_deleted_subscription_gets_nothing_more(stocked, receiver):
    sub = subscribe(stocked, receiver, "/del")
    subscriptions.delete(stocked, sub["id"])
    place_orders(stocked, 1, accept=False)
    pump(stocked, lambda: False, seconds=0.5)
    assert receiver.requests == {}
    with stocked.reading() as uow:
        assert uow.session.scalar(select(WebhookDelivery.id)) is None


def test_a_receiver_holding_another_secret_refuses_every_request_as_badly_signed(stocked,
                                                                                 receiver):
    subscribe(stocked, receiver, "/other")
    receiver.secrets["/other"] = subscriptions.new_secret()  # not the one the service signs with
    place_orders(stocked, 1, accept=False)
    assert pump(stocked, lambda: receiver.bad_signatures >= 2)
    assert receiver.accepted() == []
    failing = delivery.listed(stocked, "failed", None, 10)
    assert failing and all(d["last_status_code"] == 401 for d in failing)


def test_an_order_whose_event_keeps_failing_holds_only_its_own_later_events(stocked,
                                                                            receiver):
    subscribe(stocked, receiver, "/lane")
    orders = place_orders(stocked, 3, accept=False)
    lane_of = lanes(stocked)
    stuck_lane = f"order:{orders[0]}"
    first_of_stuck = min(int(i) for i, lane in lane_of.items() if lane == stuck_lane)
    failing = {"on": True}
    receiver.plan = lambda id_, _nth, _path: (
        (500, 0.0) if failing["on"] and int(id_) == first_of_stuck else (204, 0.0))
    others = {i for i, lane in lane_of.items() if lane != stuck_lane}
    assert pump(stocked, lambda: {r.webhook_id for r in receiver.accepted()} >= others)
    stuck = [i for i, lane in lane_of.items() if lane == stuck_lane]
    assert not {r.webhook_id for r in receiver.accepted()} & set(stuck)
    queued = delivery.listed(stocked, "queued", None, 50)
    assert {str(d["event_id"]) for d in queued} == set(stuck) - {str(first_of_stuck)}
    failing["on"] = False
    assert pump(stocked, lambda: {r.webhook_id for r in receiver.accepted()} >= set(stuck))
    order = [int(r.webhook_id) for r in receiver.accepted() if r.webhook_id in stuck]
    assert order == sorted(order)


def test_a_slow_receiver_holds_only_its_own_requests_while_another_subscriber_is_served(
        stocked, receiver, webhooks_config):
    receiver.plan = lambda _id, _nth, path: (204, 2.0 if path == "/slow" else 0.0)
    subscribe(stocked, receiver, "/slow")
    subscribe(stocked, receiver, "/fast")
    place_orders(stocked, 4)
    wanted = {str(e.id) for e in outbox(stocked)}
    config = delivery.DeliveryConfig.of(stocked)
    from service.services.notifications.sending import Sender

    sender = Sender(config.concurrency, 1.5)  # the slow ones time out after 1.5 s each
    pipe = delivery.Pipeline(stocked, config, sender)
    started = time.monotonic()
    try:
        while ({r.webhook_id for r in receiver.accepted("/fast")} < wanted
               and time.monotonic() - started < 10):
            delivery.route(stocked)
            pipe.fill()
            pipe.drain(0.02)
    finally:
        pipe.finish()
        sender.close()
    assert {r.webhook_id for r in receiver.accepted("/fast")} == wanted
    # lanes of 2-4 events: batch after batch would wait 1.5 s each time for the slow ones
    assert time.monotonic() - started < 3
