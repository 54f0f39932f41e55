"""Return tests: the `returns` test policy (ledger@1's channels plus returns rules matching on
condition and reason), the small network, stock at known places, and shipped orders."""

import pytest
from sqlalchemy import func, select

from service.store.models import (
    Event,
    ReturnLineRow,
    ReturnReceiptLineRow,
    ReturnReceiptRow,
    ReturnRow,
    SettlementRecord,
    StockPosition,
)
from tests.api.orders.conftest import order, stocked  # noqa: F401 (the same stock and orders)


@pytest.fixture
def policy() -> str:
    return "returns@1"


@pytest.fixture
def shipped(client, admin, order):  # noqa: F811
    """Place an order of these lines, ship every fulfilment; the order as read after it."""

    def place(lines):
        placed = order(lines)
        assert placed.status_code == 201, placed.json
        for f in placed.json["fulfilments"]:
            sent = client.post(f"/v1/fulfilments/{f['id']}/events", headers=admin,
                               json={"type": "shipped"})
            assert sent.status_code == 200, sent.json
        return client.get(f"/v1/orders/{placed.json['id']}", headers=admin).json

    return place


@pytest.fixture
def open_return(client, admin):
    """POST a return of these lines on an order; the response."""

    def send(order_id, lines, headers=None, key=None):
        sent = dict(headers or admin)
        if key:
            sent["Idempotency-Key"] = key
        return client.post(f"/v1/orders/{order_id}/returns", json={"lines": lines},
                           headers=sent)

    return send


@pytest.fixture
def receive(client, admin):
    """POST a receipt of these lines at a location; the response."""

    def send(return_id, location, lines, headers=None):
        return client.post(f"/v1/returns/{return_id}/receipts", headers=headers or admin,
                           json={"location": location, "lines": lines})

    return send


def line(sku, quantity, condition="new", reason="did not fit"):
    """A receipt line."""
    return {"sku": sku, "quantity": quantity, "condition": condition, "reason": reason}


def on_hand(ctx, location, sku):
    with ctx.sessions() as session:
        return session.scalar(select(StockPosition.on_hand).where(
            StockPosition.location_id == location, StockPosition.sku == sku))


def written(ctx) -> tuple:
    """Everything returns may write: their rows, settlement records, events, positions."""
    with ctx.sessions() as session:
        counts = tuple(session.scalar(select(func.count()).select_from(table)) for table in (
            ReturnRow, ReturnLineRow, ReturnReceiptRow, ReturnReceiptLineRow,
            SettlementRecord, Event))
        positions = sorted(tuple(r) for r in session.execute(select(
            StockPosition.location_id, StockPosition.sku, StockPosition.on_hand,
            StockPosition.allocated)))
    return counts, tuple(positions)


def events_of(ctx, type_):
    with ctx.sessions() as session:
        return list(session.scalars(select(Event.payload).where(Event.type == type_)
                                    .order_by(Event.id)))
