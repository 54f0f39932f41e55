"""Webhooks, the pure part: who wants an event, its order lane, the retry schedule, and
what an answer means for a delivery."""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GONE = 410


@dataclass(frozen=True)
class Subscriber:
    """What routing needs of a subscription."""

    id: str
    events: tuple[str, ...]
    location: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class OutboxEvent:
    """An outbox row as routing sees it."""

    id: int
    aggregate_type: str
    aggregate_id: str
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Backoff:
    """Retry n waits min(cap, base * factor**(n-1)) seconds, times a jitter in [1-j, 1+j]."""

    base_seconds: float = 5.0
    factor: float = 4.0
    max_seconds: float = 86400.0
    jitter: float = 0.2

    def delay(self, attempts: int, rand: random.Random | None = None) -> float:
        """Seconds to wait after the attempts-th failed attempt."""
        raw = min(self.max_seconds, self.base_seconds * self.factor ** max(0, attempts - 1))
        spread = (rand or random).uniform(1 - self.jitter, 1 + self.jitter)
        return min(self.max_seconds, raw * spread)


def order_key(event: OutboxEvent) -> str:
    """The lane an event is ordered in: its order (the aggregate, or payload order_id), else
    the aggregate itself."""
    if event.aggregate_type == "order":
        return f"order:{event.aggregate_id}"
    order_id = event.payload.get("order_id") if isinstance(event.payload, dict) else None
    if isinstance(order_id, str) and order_id:
        return f"order:{order_id}"
    return f"{event.aggregate_type}:{event.aggregate_id}"


def order_id_of(event: OutboxEvent) -> str | None:
    """The order an event belongs to, if any."""
    key = order_key(event)
    return key.removeprefix("order:") if key.startswith("order:") else None


def locations_named(payload: Any) -> set[str]:
    """The locations an event's payload names (location, from, to; rerouted targets too)."""
    if not isinstance(payload, dict):
        return set()
    found: set[str] = set()
    for key in ("location", "from", "to"):
        value = payload.get(key)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found |= {v["location"] for v in value
                      if isinstance(v, dict) and isinstance(v.get("location"), str)}
    return found


def type_matches(globs: Iterable[str], event_type: str) -> bool:
    """Whether any glob (fnmatch, case-sensitive) matches the event type."""
    return any(fnmatch.fnmatchcase(event_type, glob) for glob in globs)


def wants(sub: Subscriber, event: OutboxEvent, channel: str | None) -> bool:
    """Whether the subscriber receives the event (channel: the event's order's channel)."""
    if not type_matches(sub.events, event.type):
        return False
    if sub.location is not None and sub.location not in locations_named(event.payload):
        return False
    return sub.channel is None or sub.channel == channel


@dataclass(frozen=True)
class Outcome:
    """What one attempt's answer makes of the delivery."""

    status: str  # delivered | failed | dead
    disable: bool = False


def judge(status_code: int | None, attempts: int, max_attempts: int) -> Outcome:
    """A 2xx delivers; 410 Gone disables the subscription; anything else (a timeout or a
    refused connection: no code) fails, and the max_attempts-th failure is dead."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome("delivered")
    if status_code == GONE:
        return Outcome("failed", disable=True)
    return Outcome("dead" if attempts >= max_attempts else "failed")


def admit(rows: list[dict[str, Any]], busy: set[tuple[str, str]]) -> None:
    """Set each new delivery's status: the first of a lane (subscription, order key) with
    nothing open is pending, every other one queued behind it (busy: the open lanes)."""
    for row in sorted(rows, key=lambda r: r["event_id"]):
        lane = (row["subscription_id"], row["order_key"])
        row["status"] = "queued" if lane in busy else "pending"
        busy.add(lane)


def next_in_lanes(open_rows: list[dict[str, Any]]) -> list[int]:
    """The queued deliveries whose turn it is: in each lane with nothing pending, in flight
    or failed, the first queued one (by event id)."""
    lanes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in open_rows:
        lanes.setdefault((row["subscription_id"], row["order_key"]), []).append(row)
    turn = []
    for rows in lanes.values():
        if all(r["status"] == "queued" for r in rows):
            turn.append(min(rows, key=lambda r: r["event_id"])["id"])
    return turn
