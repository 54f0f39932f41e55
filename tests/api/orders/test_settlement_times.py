"""Settlement records are dated when the units were settled (cancelled or reported shipped),
whatever the order's status did: the ERP exports them by that time."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.clock import MovableClock
from service.store.models import SettlementRecord

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


def settled(ctx) -> list[tuple[str, int, datetime]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(SettlementRecord).order_by(SettlementRecord.id))
        return [(r.kind, r.quantity, r.created_at) for r in rows]


def test_a_partial_cancel_that_leaves_the_status_as_it_was_is_settled_at_the_cancel(
        stocked, order, client, admin, ctx, clock):
    placed = order([{"sku": "A", "quantity": 4}]).json
    clock.advance(3600)
    response = client.post(f"/v1/orders/{placed['id']}/cancel", headers=admin,
                           json={"lines": [{"sku": "A", "quantity": 1}]})
    assert response.status_code == 200 and response.json["status"] == placed["status"]
    assert settled(ctx) == [("cancelled", 1, clock.now())]


def test_a_shipment_is_settled_when_it_is_reported(stocked, order, client, admin, ctx, clock):
    placed = order([{"sku": "B", "quantity": 2}]).json
    clock.advance(7200)
    fulfilment_id = placed["fulfilments"][0]["id"]
    response = client.post(f"/v1/fulfilments/{fulfilment_id}/events", headers=admin,
                           json={"type": "shipped", "at": START.isoformat()})
    assert response.status_code == 200
    assert settled(ctx) == [("shipped", 2, clock.now())]
