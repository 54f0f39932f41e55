"""Whatever amount an order is accepted with can be stored, cancelled, shipped and settled
to the cent (on SQLite and PostgreSQL)."""

from decimal import Decimal

from sqlalchemy import select

from service.store.models import OrderLineRow, SettlementRecord
from tests.support import T2, snapshot

TOP_PRICE = 9_999_999_999.99  # the most a unit may cost (order_lines.unit_price NUMERIC(12,2))


def settled(ctx) -> list[tuple[str, int, Decimal]]:
    with ctx.sessions() as session:
        return [(r.kind, r.quantity, r.amount) for r in session.scalars(
            select(SettlementRecord).order_by(SettlementRecord.id))]


def ship_everything(client, admin, order_id) -> list[int]:
    """Report every open fulfilment of the order shipped; the status codes."""
    read = client.get(f"/v1/orders/{order_id}", headers=admin).json
    return [client.post(f"/v1/fulfilments/{f['id']}/events", headers=admin,
                        json={"type": "shipped"}).status_code
            for f in read["fulfilments"] if f["status"] == "created"]


def test_the_high_value_order_from_the_issue_is_cancelled_and_shipped(stocked, order, client,
                                                                      admin, ctx):
    client.post("/v1/inventory/snapshots", json=snapshot("DC-1", T2, {"A": 300, "B": 5}),
                headers=admin)
    issue = [{"sku": "A", "quantity": 150, "unit_price": TOP_PRICE}]
    to_cancel, to_ship = order(issue), order(issue)
    assert to_cancel.status_code == to_ship.status_code == 201
    cancelled = client.post(f"/v1/orders/{to_cancel.json['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert set(ship_everything(client, admin, to_ship.json["id"])) == {200}
    assert settled(ctx) == [("cancelled", 150, Decimal("1499999999998.50")),
                            ("shipped", 150, Decimal("1499999999998.50"))]


def test_the_largest_line_an_order_may_have_is_settled_to_the_cent(stocked, order, client,
                                                                   admin, ctx):
    client.post("/v1/inventory/snapshots", json=snapshot("DC-1", T2, {"A": 100_000}),
                headers=admin)
    placed = order([{"sku": "A", "quantity": 100_000, "unit_price": TOP_PRICE}])
    assert placed.status_code == 201 and placed.json["lines"][0]["unit_price"] == TOP_PRICE
    assert set(ship_everything(client, admin, placed.json["id"])) == {200}
    assert settled(ctx) == [("shipped", 100_000, Decimal("999999999999000.00"))]
    with ctx.sessions() as session:
        assert session.scalar(select(OrderLineRow.unit_price)) == Decimal("9999999999.99")


def test_a_price_or_a_quantity_past_what_can_be_stored_is_refused_naming_it(stocked, order):
    response = order([{"sku": "A", "quantity": 100_001},
                      {"sku": "B", "quantity": 1, "unit_price": 10_000_000_000}])
    assert response.status_code == 422
    assert [p["pointer"] for p in response.json["problems"]] == ["/lines/0/quantity",
                                                                 "/lines/1/unit_price"]
