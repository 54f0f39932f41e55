"""Webhooks' pure rules: who wants an event, the lane it is ordered in, the retry schedule
and what an answer makes of a delivery."""

import random

import pytest

from service.domain.webhooks import (
    Backoff,
    OutboxEvent,
    Subscriber,
    judge,
    locations_named,
    order_key,
    wants,
)


def event(type_="fulfilment.requested", aggregate=("fulfilment", "F1"), **payload):
    return OutboxEvent(1, aggregate[0], aggregate[1], type_, payload)


def test_an_order_event_is_ordered_in_its_orders_lane():
    assert order_key(event("order.placed", ("order", "O1"))) == "order:O1"


def test_a_fulfilment_event_is_ordered_in_the_lane_of_the_order_its_payload_names():
    assert order_key(event(order_id="O1")) == "order:O1"


def test_an_event_of_no_order_is_ordered_in_its_own_aggregates_lane():
    assert order_key(event("transfer.shipped", ("transfer", "T1"))) == "transfer:T1"


def test_globs_match_event_types_as_fnmatch_does():
    sub = Subscriber("s", ("order.*",))
    assert wants(sub, event("order.placed"), None)
    assert not wants(sub, event("fulfilment.requested"), None)
    assert wants(Subscriber("s", ("*",)), event("anything.at_all"), None)


def test_a_location_subscriber_wants_only_events_naming_its_location():
    sub = Subscriber("s", ("fulfilment.*",), location="DC-1")
    assert wants(sub, event(location="DC-1"), None)
    assert not wants(sub, event(location="ST-1"), None)
    assert wants(sub, event("fulfilment.rerouted", **{"from": "DC-1"}), None)
    assert wants(sub, event("fulfilment.rerouted", **{"from": "X", "to": [
        {"location": "DC-1"}]}), None)


def test_a_channel_subscriber_wants_only_its_channels_orders():
    sub = Subscriber("s", ("*",), channel="web")
    assert wants(sub, event(), "web") and not wants(sub, event(), "app")


def test_payload_locations_are_read_from_location_from_and_to():
    assert locations_named({"location": "A", "from": "B", "to": [{"location": "C"}, 3]}) == {
        "A", "B", "C"}
    assert locations_named(None) == set()


def test_the_backoff_grows_by_its_factor_up_to_a_day_with_bounded_jitter():
    backoff = Backoff(base_seconds=5, factor=4, max_seconds=86400, jitter=0.2)
    rand = random.Random(7)
    for attempts, middle in [(1, 5), (2, 20), (3, 80), (4, 320), (8, 81920)]:
        assert middle * 0.8 <= backoff.delay(attempts, rand) <= middle * 1.2
    assert all(backoff.delay(n, rand) <= 86400 for n in range(9, 30))
    assert Backoff(jitter=0).delay(20) == 86400


@pytest.mark.parametrize(("code", "attempts", "status", "disable"), [
    (200, 1, "delivered", False), (204, 3, "delivered", False), (410, 1, "failed", True),
    (500, 1, "failed", False), (None, 2, "failed", False), (503, 5, "dead", False),
    (None, 5, "dead", False)])
def test_an_answer_delivers_fails_kills_or_disables(code, attempts, status, disable):
    outcome = judge(code, attempts, max_attempts=5)
    assert (outcome.status, outcome.disable) == (status, disable)


def row(id_, event_id, status="pending", order="o1", sub="s"):
    return {"id": id_, "event_id": event_id, "status": status, "order_key": order,
            "subscription_id": sub}


def test_a_new_delivery_queues_behind_its_orders_open_one_and_leads_an_idle_order():
    rows = [row(None, 7, order="o1"), row(None, 5, order="o2"), row(None, 6, order="o2")]
    from service.domain.webhooks import admit

    admit(rows, busy={("s", "o1")})
    assert [r["status"] for r in rows] == ["queued", "pending", "queued"]


def test_the_first_queued_delivery_of_an_order_with_nothing_else_open_is_next():
    from service.domain.webhooks import next_in_lanes

    open_rows = [row(1, 9, "queued"), row(2, 4, "queued"),
                 row(3, 2, "failed", order="o2"), row(4, 3, "queued", order="o2"),
                 row(5, 1, "queued", sub="t")]
    assert sorted(next_in_lanes(open_rows)) == [2, 5]


def test_an_events_version_comes_from_its_catalogue_schema_else_1(tmp_path, monkeypatch):
    import json

    from service.services.notifications import catalogue

    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "order.placed.schema.json").write_text(json.dumps(
        {"properties": {"version": {"const": 3}}}))
    monkeypatch.setattr(catalogue, "SCHEMAS_DIR", tmp_path)
    catalogue.event_version.cache_clear()
    try:
        assert catalogue.event_version("order.placed") == 3
        assert catalogue.event_version("order.unheard_of") == 1
    finally:
        catalogue.event_version.cache_clear()
