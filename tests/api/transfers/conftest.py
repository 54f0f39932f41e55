"""Transfer tests: the fixed `ledger` policy, the small network, stock at known places."""

import pytest
from sqlalchemy import func, select

from service.store.models import Event, StockPosition, TransferLineRow, TransferRow
from tests.api.orders.conftest import order, policy, stocked  # noqa: F401 (the same stock)


@pytest.fixture
def transfer(client, admin):
    """POST a transfer (DC-1 -> ST-2 unless told) and return the response."""

    def create(lines, source="DC-1", destination="ST-2", key=None, headers=None, **extra):
        sent = dict(headers or admin)
        if key:
            sent["Idempotency-Key"] = key
        body = {"from": source, "to": destination, "lines": lines, **extra}
        return client.post("/v1/transfers", json=body, headers=sent)

    return create


@pytest.fixture
def report(client, admin):
    """POST an event on a transfer and return the response."""

    def send(transfer_id, type_, headers=None, **extra):
        return client.post(f"/v1/transfers/{transfer_id}/events",
                           json={"type": type_, **extra}, headers=headers or admin)

    return send


@pytest.fixture
def detail(client, admin):
    """A location's entry for a SKU in the web channel's availability detail (None: absent)."""

    def entry(sku, location):
        items = client.get(f"/v1/availability?channel=web&sku={sku}&detail=locations",
                           headers=admin).json["items"]
        return next((loc for loc in items[0]["locations"] if loc["location"] == location), None)

    return entry


def written(ctx) -> tuple:
    """Everything a transfer request could write: positions, transfers, their lines, events."""
    with ctx.sessions() as session:
        positions = sorted(tuple(r) for r in session.execute(select(
            StockPosition.location_id, StockPosition.sku, StockPosition.on_hand,
            StockPosition.allocated, StockPosition.reserved)))
        counts = tuple(session.scalar(select(func.count()).select_from(table))
                       for table in (TransferRow, TransferLineRow, Event))
    return tuple(positions), counts
