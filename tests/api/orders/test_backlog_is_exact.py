"""Backlog is exact: a plan made right after an order counts that order's open lines, and the
kept count per location always equals the open fulfilment lines (placed, cancelled, shipped)."""

from service.services.orders import backlog
from tests.api.orders.conftest import NYC


def plan_ratio(client, admin, sku: str) -> tuple[str, float]:
    """(location, raw backlog ratio) of the one shipment a plan for one unit of sku makes."""
    response = client.post("/v1/sourcing/plan", headers=admin, json={
        "channel": "web", "ship_to": NYC, "lines": [{"sku": sku, "quantity": 1}]})
    assert response.status_code == 200, response.json
    shipment, = response.json["shipments"]
    return shipment["location"], shipment["factors"]["raw"]["backlog_ratio"]


def test_a_plan_right_after_an_order_counts_the_order_s_open_lines(stocked, client, admin,
                                                                    order):
    location, before = plan_ratio(client, admin, "B")
    assert (location, before) == ("DC-1", 0.0)
    placed = order([{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 1}])
    assert placed.status_code == 201, placed.json
    lines_at_dc = sum(len(f["lines"]) for f in placed.json["fulfilments"]
                      if f["location"] == "DC-1")
    assert lines_at_dc >= 1
    location, after = plan_ratio(client, admin, "B")
    assert (location, after) == ("DC-1", lines_at_dc / 5000)


def test_the_kept_backlog_equals_the_open_lines_through_cancels_and_shipments(
        stocked, ctx, client, admin, order):
    placed = [order([{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]),
              order([{"sku": "C", "quantity": 1}, {"sku": "A", "quantity": 1}]),
              order([{"sku": "B", "quantity": 2}])]
    assert [p.status_code for p in placed] == [201, 201, 201]
    ids = [p.json["id"] for p in placed]

    def open_lines_shown():
        """Lines of open fulfilments per location, as the orders show them."""
        counts: dict[str, int] = {}
        for order_id in ids:
            for f in client.get(f"/v1/orders/{order_id}", headers=admin).json["fulfilments"]:
                if f["status"] in ("created", "accepted", "picked", "packed"):
                    counts[f["location"]] = counts.get(f["location"], 0) + len(f["lines"])
        return counts

    def kept_and_counted():
        with ctx.reading() as uow:
            return backlog.open_lines(uow), uow.orders.open_lines_per_location()

    assert kept_and_counted() == (open_lines_shown(),) * 2
    assert sum(open_lines_shown().values()) == 5
    shipped = placed[1].json["fulfilments"][0]
    assert client.post(f"/v1/fulfilments/{shipped['id']}/events", headers=admin,
                       json={"type": "shipped"}).status_code == 200
    assert client.post(f"/v1/orders/{ids[0]}/cancel", headers=admin,
                       json={"lines": [{"sku": "A"}]}).status_code == 200
    assert kept_and_counted() == (open_lines_shown(),) * 2
    assert client.post(f"/v1/orders/{ids[2]}/cancel", headers=admin, json={}).status_code == 200
    assert kept_and_counted() == (open_lines_shown(),) * 2
    assert sum(open_lines_shown().values()) == 5 - len(shipped["lines"]) - 1
