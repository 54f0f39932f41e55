"""A steady load of orders and availability reads against served `oms` processes."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass

from tests.processes import Answer, call

SMALL_LOCATIONS = [
    {"id": "ST-1", "name": "Store one", "type": "store", "lat": 40.75, "lon": -73.99,
     "can_pickup": True, "can_ship": True, "daily_capacity": 50, "processing_hours": 4},
    {"id": "DC-1", "name": "DC", "type": "dc", "lat": 39.1, "lon": -84.5,
     "daily_capacity": 5000, "processing_hours": 12, "priority": 1},
]
SMALL_PRODUCTS = [{"sku": sku, "name": sku, "category": "home", "price": 10} for sku in "ABC"]


def seed(base: str, key: str, counts: dict[str, dict[str, int]]) -> None:
    """Locations, products and one snapshot per location, through the API."""
    assert call("POST", base + "/v1/locations", key, SMALL_LOCATIONS).status == 200
    assert call("POST", base + "/v1/products", key, SMALL_PRODUCTS).status == 200
    for location, stock in counts.items():
        body = {"location": location, "as_of": "2026-03-01T10:00:00Z",
                "items": [{"sku": sku, "on_hand": n} for sku, n in stock.items()]}
        assert call("POST", base + "/v1/inventory/snapshots", key, body).status == 200


def order_body(sku: str, quantity: int = 1) -> dict:
    return {"channel": "web", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": sku, "quantity": quantity}]}


@dataclass(frozen=True)
class Sent:
    """One request of the load: what, when, and its answer."""

    kind: str  # "order" or "read"
    base: str
    idempotency_key: str | None
    sku: str
    started: float
    ended: float
    answer: Answer


class Load:
    """Client threads sending orders (each with its Idempotency-Key) and reads, in turn,
    spread over the given servers, until stopped or `limit` seconds have passed."""

    def __init__(self, bases: list[str], key: str, clients: int = 3, skus: str = "ABC",
                 limit: float = 120) -> None:
        self.bases, self.key, self.skus, self.limit = bases, key, skus, limit
        self.sent: list[Sent] = []
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(i,), daemon=True)
                         for i in range(clients)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _client(self, index: int) -> None:
        deadline = time.monotonic() + self.limit
        for n in itertools.count(index):
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            base, sku = self.bases[n % len(self.bases)], self.skus[n % len(self.skus)]
            self._record(self._order(base, sku) if n % 2 else self._read(base, sku))
            time.sleep(0.01)

    def _order(self, base: str, sku: str) -> Sent:
        key, started = uuid.uuid4().hex, time.monotonic()
        answer = call("POST", base + "/v1/orders", self.key, order_body(sku),
                      **{"Idempotency-Key": key})
        return Sent("order", base, key, sku, started, time.monotonic(), answer)

    def _read(self, base: str, sku: str) -> Sent:
        started = time.monotonic()
        answer = call("GET", f"{base}/v1/availability?channel=web&sku={sku}", self.key)
        return Sent("read", base, None, sku, started, time.monotonic(), answer)

    def _record(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)

    def answered(self, status: int, since: float = 0.0) -> int:
        """How many requests started after `since` got this status."""
        with self._lock:
            return sum(1 for s in self.sent if s.answer.status == status and s.started >= since)

    def wait_for(self, status: int, count: int = 1, since: float = 0.0,
                 timeout: float = 30) -> bool:
        """Wait until `count` requests started after `since` got `status`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answered(status, since) >= count:
                return True
            time.sleep(0.05)
        return False
