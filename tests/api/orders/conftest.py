"""Order tests: the fixed `ledger` policy, the small network, stock at known places."""

import pytest

from tests.support import T1, snapshot

NYC = {"lat": 40.71, "lon": -74.0}


@pytest.fixture
def policy() -> str:
    return "ledger@1"


@pytest.fixture
def stocked(small_network, client, admin):
    """A: 10 at ST-1 (New York), 20 at DC-1. B: 5 at DC-1. C: 3 at ST-1 only."""
    for location, counts in {"ST-1": {"A": 10, "C": 3}, "DC-1": {"A": 20, "B": 5}}.items():
        response = client.post("/v1/inventory/snapshots", json=snapshot(location, T1, counts),
                               headers=admin)
        assert response.status_code == 200
    return small_network


@pytest.fixture
def spread(small_network, client, admin):
    """A: 10 at ST-1 (New York), 10 at ST-2 (Chicago), 20 at DC-1. B: 5 at DC-1."""
    counts = {"ST-1": {"A": 10}, "ST-2": {"A": 10}, "DC-1": {"A": 20, "B": 5}}
    for location, items in counts.items():
        response = client.post("/v1/inventory/snapshots", json=snapshot(location, T1, items),
                               headers=admin)
        assert response.status_code == 200
    return small_network


@pytest.fixture
def order(client, admin):
    """Place an order and return the response."""

    def place(lines, key=None, headers=None, **extra):
        body = {"channel": "web", "ship_to": NYC, "lines": lines, **extra}
        sent = dict(headers or admin)
        if key:
            sent["Idempotency-Key"] = key
        return client.post("/v1/orders", json=body, headers=sent)

    return place
