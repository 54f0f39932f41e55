"""Delivering the outbox: route new events to the subscriptions that want them, send what is
due (one event in flight per order and subscriber), record every attempt, retry with backoff.

The scheduler's `webhooks.deliver` job runs `run` in the process that holds its lease: a loop
of `run_seconds` that sleeps until events commit (PostgreSQL NOTIFY; SQLite: a short poll)
or a retry falls due. At least once: a delivery is marked delivered only after its 2xx, and a
claim left by a killed process falls due again when it expires (same webhook-id).
"""

from __future__ import annotations

import functools
import math
import time
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from service import metrics
from service.domain.webhooks import Backoff, judge, wants
from service.errors import DeliveryInFlight, NotFound
from service.services.notifications import lanes
from service.services.notifications.sending import Answer, Message, Sender, body_of
from service.services.notifications.subscriptions import (
    box,
    channel_of,
    delivery_row,
    order_ids,
    subscriber,
    sync_config,
)
from service.store.event_signal import EventSignal

if TYPE_CHECKING:
    from service.services.context import Context

RUN_GAP_SECONDS = 0.5  # a run ends this long before the job fires again (never overlapping)
IDLE_WAIT_SECONDS = 1.0  # the longest sleep between looks at due retries
FLYING_WAIT_SECONDS = 0.05  # while requests are out: how long to wait for one to answer
GATHER_SECONDS = 0.05  # answers recorded together: one transaction for many
CLAIM_MARGIN_SECONDS = 5.0
ROUTE_BATCH = 2000


@dataclass(frozen=True)
class DeliveryConfig:
    """The `webhooks` section of the settings that delivery reads."""

    run_seconds: float
    poll_seconds: float
    batch: int
    concurrency: int
    timeout_seconds: float
    max_attempts: int
    backoff: Backoff

    @classmethod
    def of(cls, ctx: Context) -> DeliveryConfig:
        s = ctx.settings.section("webhooks")
        return cls(s["run_seconds"], s["poll_seconds"], s["batch"], s["concurrency"],
                   s["timeout_seconds"], s["max_attempts"],
                   Backoff(s["backoff_base_seconds"], s["backoff_factor"],
                           s["backoff_max_seconds"]))

    @property
    def claim_seconds(self) -> float:
        """How long a claimed batch may take: its rounds of timeouts, and a margin."""
        return self.timeout_seconds * math.ceil(self.batch / self.concurrency) + \
            CLAIM_MARGIN_SECONDS


def run(ctx: Context) -> int:
    """The job: route and deliver until run_seconds have passed; returns how many sent."""
    config = DeliveryConfig.of(ctx)
    _synced_once(ctx)
    sender, signal = _sender(config.concurrency, config.timeout_seconds), _signal(ctx)
    deadline = time.monotonic() + max(0.5, config.run_seconds - RUN_GAP_SECONDS)
    with ctx.transaction() as uow:
        lanes.sweep(uow, ctx.clock.now())
    pipe, sent, more = Pipeline(ctx, config, sender), 0, True
    try:
        while (left := deadline - time.monotonic()) > 0 and not ctx.stopping.is_set():
            routed = route(ctx) if more or signal.poll() else 0
            more = routed >= ROUTE_BATCH  # a full batch: more are waiting
            moved = routed + pipe.fill()
            done = pipe.drain(0.0 if moved else FLYING_WAIT_SECONDS)
            sent += done
            if not moved and not done and not pipe.flying:
                more = signal.wait(min(IDLE_WAIT_SECONDS, left)) or not signal.listens
    finally:
        sent += pipe.finish()
    return sent


def route(ctx: Context, limit: int = ROUTE_BATCH) -> int:
    """Hand the oldest unrouted events to a delivery per subscription that wants them."""
    with ctx.reading(autocommit=True) as look:  # no write lock (SQLite) when idle
        if not look.webhooks.has_unrouted():
            return 0
    with ctx.transaction() as uow:
        uow.webhooks.lock_routing()
        events = uow.webhooks.unrouted(limit)
        if not events:
            return 0
        subs = [subscriber(row) for row in uow.webhooks.active()]
        channels = (uow.webhooks.order_channels(order_ids(events))
                    if any(s.channel for s in subs) else {})
        rows = [delivery_row(ctx, s.id, e) for e in events for s in subs
                if wants(s, e, channel_of(e, channels))]
        uow.webhooks.add_deliveries(lanes.admitted(uow, rows))
        uow.webhooks.mark_routed([e.id for e in events], ctx.clock.now())
    return len(events)


def deliver_due(ctx: Context, config: DeliveryConfig, sender: Sender) -> int:
    """Claim a batch of due deliveries, send them at once, record every answer."""
    pipe = Pipeline(ctx, config, sender)
    pipe.fill()
    return pipe.finish()


class Pipeline:
    """Requests out at once (up to `batch`), each recorded as its answer comes, so a slow
    receiver holds only its own deliveries while the others keep flowing."""

    def __init__(self, ctx: Context, config: DeliveryConfig, sender: Sender) -> None:
        self.ctx, self.config, self.sender = ctx, config, sender
        self.flying: dict[Future[Answer], dict[str, Any]] = {}

    def fill(self) -> int:
        """Claim what is due, as many as there is room for, and send it."""
        room = self.config.batch - len(self.flying)
        if room <= 0 or (self.flying and room < self.config.batch // 4):
            return 0  # topped up by quarters: a claim per answer would cost more than it saves
        now = self.ctx.clock.now()
        with self.ctx.reading(autocommit=True) as look:  # no write lock (SQLite) when idle
            if not look.deliveries.any_due(now):
                return 0
        with self.ctx.transaction() as uow:
            claimed = uow.deliveries.claim(now, room,
                                           now + timedelta(seconds=self.config.claim_seconds))
        by_id = {c["id"]: c for c in claimed}
        messages, unsendable = _messages(claimed)
        for message in messages:
            self.flying[self.sender.pool.submit(self.sender.send, message)] = \
                by_id[message.delivery_id]
        for answer in unsendable:
            future: Future[Answer] = Future()
            future.set_result(answer)
            self.flying[future] = by_id[answer.delivery_id]
        return len(claimed)

    def drain(self, wait: float | None) -> int:
        """Record the answers in (waiting up to `wait` for the first); how many."""
        if not self.flying:
            return 0
        done = wait_for(self.flying, timeout=wait, return_when=FIRST_COMPLETED)[0]
        if done and len(done) < len(self.flying):  # gather those answering right after it
            done = wait_for(self.flying, timeout=GATHER_SECONDS)[0]
        done = list(done)
        if done:
            _record(self.ctx, self.config, [self.flying.pop(f) for f in done],
                    [f.result() for f in done])
        return len(done)

    def finish(self) -> int:
        """Wait for every request out and record it."""
        recorded = 0
        while self.flying:
            recorded += self.drain(None)
        return recorded


def _messages(claimed: list[dict[str, Any]]) -> tuple[list[Message], list[Answer]]:
    secrets: dict[str, str | None] = {}
    messages, unsendable = [], []
    for c in claimed:
        if c["subscription_id"] not in secrets:
            try:
                secrets[c["subscription_id"]] = box().open(c["secret_encrypted"])
            except ValueError:
                secrets[c["subscription_id"]] = None
        secret = secrets[c["subscription_id"]]
        if secret is None:
            unsendable.append(Answer(c["id"], None, 0, "the secret was sealed with another "
                                     "OMS_SECRET_KEY"))
            continue
        messages.append(Message(c["id"], str(c["event_id"]), c["url"], secret,
                                body_of(c["type"], c["payload_json"] or "{}", c["created_at"])))
    return messages, unsendable


def _record(ctx: Context, config: DeliveryConfig, claimed: list[dict[str, Any]],
            answers: list[Answer]) -> None:
    now = ctx.clock.now()
    outcomes, attempts, gone = [], [], set()
    for c, answer in zip(claimed, answers, strict=True):
        outcome = judge(answer.status_code, c["attempts"], config.max_attempts)
        wait = config.backoff.delay(c["attempts"]) if outcome.status == "failed" else 0.0
        outcomes.append({"id": c["id"], "status": outcome.status,
                         "next_attempt_at": now + timedelta(seconds=wait),
                         "last_status_code": answer.status_code, "last_error": answer.error,
                         "delivered_at": now if outcome.status == "delivered" else None})
        attempts.append({"delivery_id": c["id"], "attempt": c["attempts"], "at": now,
                         "outcome": outcome.status, "status_code": answer.status_code,
                         "latency_ms": answer.latency_ms, "error": answer.error})
        if outcome.disable:
            gone.add(c["subscription_id"])
        metrics.WEBHOOK_ATTEMPTS.labels(outcome.status).inc()
    finished = [lanes.lane_of(c) for c, o in zip(claimed, outcomes, strict=True)
                if o["status"] in ("delivered", "dead")]
    with ctx.transaction() as uow:
        uow.deliveries.record(outcomes, attempts)
        lanes.advance(uow, finished, now)  # each finished order's next event, if any
        for subscription_id in gone:
            uow.webhooks.change(subscription_id, disabled_at=now,
                                disabled_reason="the receiver answered 410 Gone")


def retry(ctx: Context, delivery_id: int) -> dict[str, Any]:
    """Send a delivery again now (failed, dead or delivered), with a fresh count of attempts."""
    with ctx.transaction() as uow:
        if uow.deliveries.get(delivery_id) is None:
            raise NotFound(f"No webhook delivery {delivery_id}.")
        lane = uow.deliveries.requeue(delivery_id, ctx.clock.now())
        if lane is None:
            raise DeliveryInFlight(f"Delivery {delivery_id} is being sent now; retry it once "
                                   "it is answered.")
        lanes.advance(uow, [lane], ctx.clock.now())  # pending now unless its order is busy
        return delivery_view(uow.deliveries.get(delivery_id) or {})


def listed(ctx: Context, status: str | None, after: int | None, limit: int
           ) -> list[dict[str, Any]]:
    """Deliveries newest first (of one status), each with every attempt."""
    with ctx.reading() as uow:
        return [delivery_view(d) for d in uow.deliveries.page(status, after, limit)]


def delivery_view(row: dict[str, Any]) -> dict[str, Any]:
    """A delivery as the API shows it."""
    iso = _iso
    return {"id": row["id"], "subscription": row["subscription_id"],
            "event_id": row["event_id"], "event_type": row["event_type"],
            "status": row["status"], "attempts": row["attempts"],
            "next_attempt_at": iso(row["next_attempt_at"]),
            "last_status_code": row["last_status_code"], "last_error": row["last_error"],
            "created_at": iso(row["created_at"]), "delivered_at": iso(row["delivered_at"]),
            "attempt_log": [{**a, "at": iso(a["at"])} for a in row["attempt_log"]]}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@functools.cache
def _sender(concurrency: int, timeout_seconds: float) -> Sender:
    return Sender(concurrency, timeout_seconds)


_signals: dict[int, EventSignal] = {}


def _signal(ctx: Context) -> EventSignal:
    key = id(ctx.engine)
    if key not in _signals:
        _signals[key] = EventSignal(ctx.engine, DeliveryConfig.of(ctx).poll_seconds)
    return _signals[key]


_synced: dict[int, Context] = {}  # the context kept: its id is never reused meanwhile


def _synced_once(ctx: Context) -> None:
    """config.yaml's subscriptions, synced once per process (the API's start does it too)."""
    if id(ctx) not in _synced:
        sync_config(ctx)
        _synced[id(ctx)] = ctx
