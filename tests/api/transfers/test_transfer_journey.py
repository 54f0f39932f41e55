"""A transfer's journey through the API, the stock ledger audited after every step.

On SQLite and PostgreSQL: created (allocated at the source, so availability drops at once),
shipped (off the source's shelf, in transit at the destination, never sellable), received in
two parts (the destination's on-hand rises), and the outbox records each step.
"""

from sqlalchemy import select

from service.store.models import Event
from tests.support import assert_ledger_consistent


def web(client, admin, sku):
    return client.get(f"/v1/availability?channel=web&sku={sku}",
                      headers=admin).json["items"][0]["available"]


def test_a_transfer_moves_units_from_the_source_to_the_destination(
        stocked, client, admin, transfer, report, detail, ctx):
    assert web(client, admin, "A") == 20 + 8  # DC-1, and ST-1 keeps two back
    created = transfer([{"sku": "A", "quantity": 8}, {"sku": "B", "quantity": 2}])
    assert created.status_code == 201, created.json
    tid = created.json["id"]
    assert created.headers["Location"].endswith(f"/v1/transfers/{tid}")
    assert created.json["status"] == "created"
    assert web(client, admin, "A") == 12 + 8 and web(client, admin, "B") == 3
    assert (detail("A", "DC-1")["on_hand"], detail("A", "DC-1")["allocated"]) == (20, 8)
    assert_ledger_consistent(ctx)

    shipped = report(tid, "shipped", tracking="TRK-1")
    assert shipped.status_code == 200, shipped.json
    assert shipped.json["status"] == "shipped" and shipped.json["tracking"] == "TRK-1"
    assert (detail("A", "DC-1")["on_hand"], detail("A", "DC-1")["allocated"]) == (12, 0)
    arriving = detail("A", "ST-2")
    assert (arriving["on_hand"], arriving["in_transit"], arriving["available"]) == (0, 8, 0)
    assert detail("A", "DC-1")["in_transit"] == 0
    assert web(client, admin, "A") == 12 + 8  # in transit is not sellable
    assert_ledger_consistent(ctx)

    part = report(tid, "received", lines=[{"sku": "A", "quantity": 5}])
    assert part.status_code == 200, part.json
    assert part.json["status"] == "partially_received"
    assert (detail("A", "ST-2")["on_hand"], detail("A", "ST-2")["in_transit"]) == (5, 3)
    assert web(client, admin, "A") == 12 + 8 + (5 - 2)  # ST-2 is a store: keeps two back
    assert_ledger_consistent(ctx)

    rest = report(tid, "received", lines=[{"sku": "A", "quantity": 3},
                                          {"sku": "B", "quantity": 2}])
    assert rest.status_code == 200, rest.json
    assert rest.json["status"] == "received"
    assert [(ln["sku"], ln["received"], ln["in_transit"]) for ln in rest.json["lines"]] == [
        ("A", 8, 0), ("B", 2, 0)]
    assert (detail("A", "ST-2")["on_hand"], detail("A", "ST-2")["in_transit"]) == (8, 0)
    assert (detail("B", "ST-2")["on_hand"], detail("B", "DC-1")["on_hand"]) == (2, 3)
    assert client.get(f"/v1/transfers/{tid}", headers=admin).json == rest.json
    assert_ledger_consistent(ctx)
    with ctx.sessions() as session:
        types = list(session.scalars(select(Event.type).where(
            Event.aggregate_type == "transfer", Event.aggregate_id == tid).order_by(Event.id)))
    assert types == ["transfer.created", "transfer.shipped", "transfer.received",
                     "transfer.received"]


def test_closing_records_the_units_never_received_as_missing(stocked, transfer, report,
                                                              detail, ctx):
    tid = transfer([{"sku": "A", "quantity": 6}]).json["id"]
    report(tid, "shipped")
    report(tid, "received", lines=[{"sku": "A", "quantity": 4}])
    closed = report(tid, "closed", reason="lost pallet")
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed" and closed.json["reason"] == "lost pallet"
    assert [(ln["received"], ln["missing"], ln["in_transit"])
            for ln in closed.json["lines"]] == [(4, 2, 0)]
    assert (detail("A", "ST-2")["on_hand"], detail("A", "ST-2")["in_transit"]) == (4, 0)
    assert detail("A", "DC-1")["on_hand"] == 14
    assert_ledger_consistent(ctx)


def test_a_receipt_with_a_discrepancy_closes_the_transfer(stocked, transfer, report, ctx):
    tid = transfer([{"sku": "A", "quantity": 6}, {"sku": "B", "quantity": 1}]).json["id"]
    report(tid, "shipped")
    final = report(tid, "received", lines=[{"sku": "A", "quantity": 5}], discrepancy=True)
    assert final.status_code == 200, final.json
    assert final.json["status"] == "closed" and final.json["reason"] == "discrepancy"
    assert [(ln["sku"], ln["received"], ln["missing"]) for ln in final.json["lines"]] == [
        ("A", 5, 1), ("B", 0, 1)]
    assert report(tid, "received", lines=[{"sku": "A", "quantity": 1}]).status_code == 409
    with ctx.sessions() as session:
        types = list(session.scalars(select(Event.type).where(
            Event.aggregate_id == tid).order_by(Event.id)))
    assert types[-2:] == ["transfer.received", "transfer.closed"]


def test_cancelling_before_shipping_releases_the_allocation(stocked, client, admin, transfer,
                                                             report, detail, ctx):
    tid = transfer([{"sku": "A", "quantity": 8}]).json["id"]
    assert detail("A", "DC-1")["allocated"] == 8
    cancelled = client.post(f"/v1/transfers/{tid}/cancel", json={"reason": "not needed"},
                            headers=admin)
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["lines"][0]["cancelled"] == 8
    assert (detail("A", "DC-1")["allocated"], web(client, admin, "A")) == (0, 28)
    assert report(tid, "shipped").status_code == 409
    assert_ledger_consistent(ctx)
    with ctx.sessions() as session:
        last = session.scalars(select(Event).where(Event.aggregate_id == tid)
                               .order_by(Event.id.desc())).first()
    assert (last.type, last.payload["reason"], last.payload["from"]) == (
        "transfer.cancelled", "not needed", "DC-1")


def test_a_shipped_transfer_cannot_be_cancelled(stocked, client, admin, transfer, report,
                                                detail):
    tid = transfer([{"sku": "A", "quantity": 3}]).json["id"]
    report(tid, "shipped")
    refused = client.post(f"/v1/transfers/{tid}/cancel", headers=admin)
    assert refused.status_code == 409
    assert refused.json["problems"][0]["pointer"] == "/type"
    assert detail("A", "ST-2")["in_transit"] == 3


def test_a_count_taken_before_the_transfer_shipped_never_brings_its_units_back(
        stocked, client, admin, transfer, report, detail):
    tid = transfer([{"sku": "A", "quantity": 8}]).json["id"]
    report(tid, "shipped")
    late = client.post("/v1/inventory/deltas", headers=admin, json={
        "as_of": "2026-03-01T10:30:00Z", "items": [{"location": "DC-1", "sku": "A",
                                                    "on_hand": 20}]})
    assert late.status_code == 200, late.json
    assert late.json["stale"] == 1
    assert detail("A", "DC-1")["on_hand"] == 12
