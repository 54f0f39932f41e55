"""One event in flight per order and subscriber, in SQL: the store's lane statements agree
with the pure rule (domain.webhooks) on every mix of delivery states."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import select

from service.domain.webhooks import next_in_lanes
from service.services.context import Context
from service.services.notifications import subscriptions
from service.store.models import WebhookDelivery

STATES = ("queued", "pending", "in_flight", "failed", "delivered", "dead")
OPEN = ("queued", "pending", "in_flight", "failed")


def _random_lanes(ctx: Context, seed: int) -> list[tuple[str, str]]:
    """Two subscriptions, 40 orders: each lane gets 0-5 deliveries in random states."""
    rnd = random.Random(seed)
    subs = [subscriptions.create(ctx, {"url": f"http://127.0.0.1:9/{n}", "events": ["*"]},
                                 "test")["id"] for n in range(2)]
    now, rows, event_id = ctx.clock.now(), [], 0
    for sub in subs:
        for order in range(40):
            for _ in range(rnd.randint(0, 5)):
                event_id += 1
                rows.append({"subscription_id": sub, "event_id": event_id,
                             "order_key": f"O{order}", "status": rnd.choice(STATES),
                             "attempts": 0, "next_attempt_at": now, "created_at": now})
    with ctx.transaction() as uow:
        uow.webhooks.add_deliveries(rows)
    return [(sub, f"O{order}") for sub in subs for order in range(40)]


def _open_rows(ctx: Context) -> list[dict[str, Any]]:
    d = WebhookDelivery
    with ctx.reading() as uow:
        return [dict(r._mapping) for r in uow.session.execute(
            select(d.id, d.subscription_id, d.order_key, d.event_id, d.status)
            .where(d.status.in_(OPEN)))]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_promoting_lanes_makes_pending_exactly_the_deliveries_whose_turn_the_rule_says_it_is(
        ctx: Context, seed: int) -> None:
    lanes = _random_lanes(ctx, seed)
    expected = next_in_lanes(_open_rows(ctx))
    with ctx.transaction() as uow:
        promoted = uow.deliveries.promote_next(lanes, ctx.clock.now())
    assert sorted(promoted) == sorted(expected)
    assert expected, "the random states left no lane whose turn it is"
    pending = {r["id"] for r in _open_rows(ctx) if r["status"] == "pending"}
    assert set(expected) <= pending
    with ctx.transaction() as uow:  # a second promotion finds every lane busy now
        assert uow.deliveries.promote_next(lanes, ctx.clock.now()) == []


@pytest.mark.parametrize("seed", [1, 2])
def test_the_busy_lanes_are_exactly_those_with_a_delivery_not_yet_done(ctx: Context,
                                                                       seed: int) -> None:
    lanes = _random_lanes(ctx, seed)
    expected = {(r["subscription_id"], r["order_key"]) for r in _open_rows(ctx)}
    with ctx.reading() as uow:
        assert uow.deliveries.busy_lanes(lanes) == expected
        assert uow.deliveries.busy_lanes(lanes[:3]) == expected & set(lanes[:3])
        assert uow.deliveries.busy_lanes([]) == set()
