"""Receiving a return: the `returns@1` rules decide each line's disposition (first match on
condition and reason, else restock), recorded with the rule and ruleset; restocked units are
in the receiving location's stock and the channel's availability at once; every received line
is a `returned` settlement record at the order line's unit price; the return's and the
order's status follow the units received."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from service.store.models import InventoryJournalEntry, SettlementRecord
from tests.api.returns.conftest import events_of, line, on_hand, written
from tests.support import assert_ledger_consistent


def settled(ctx):
    with ctx.sessions() as session:
        return [(r.kind, r.sku, r.location_id, r.quantity, r.amount, r.disposition)
                for r in session.scalars(select(SettlementRecord)
                                         .where(SettlementRecord.kind == "returned")
                                         .order_by(SettlementRecord.id))]


def test_each_disposition_is_decided_by_the_first_matching_rule_and_recorded(
        stocked, shipped, open_return, receive, client, admin, ctx):
    vendor = client.post("/v1/products", headers=admin, json=[
        {"sku": "A", "name": "Alpha", "category": "home", "price": 10, "vendor": "Acme Supply"}])
    assert vendor.status_code == 200, vendor.json
    placed = shipped([{"sku": "A", "quantity": 4, "unit_price": 12.5}])
    assert placed["fulfilments"][0]["location"] == "ST-1" and on_hand(ctx, "ST-1", "A") == 6
    opened = open_return(placed["id"], [{"sku": "A", "quantity": 4}]).json

    received = receive(opened["id"], "ST-1", [
        line("A", 1, "new", "did not fit"), line("A", 1, "damaged", "crushed box"),
        line("A", 1, "defective", "does not switch on"),
        line("A", 1, "opened", "hygiene seal broken")])

    assert received.status_code == 200, received.json
    [receipt] = received.json["receipts"]
    assert receipt["location"] == "ST-1" and receipt["ruleset"] == "returns@1"
    decided = [(ln["condition"], ln["disposition"], ln["rule"], ln["vendor"], ln["refund"],
                ln["ruleset"]) for ln in receipt["lines"]]
    assert decided == [
        ("new", "restock", None, None, 12.5, "returns@1"),
        ("damaged", "discard", "damaged-goods-are-discarded", None, 12.5, "returns@1"),
        ("defective", "return_to_vendor", "defective-goods-go-back-to-vendor", "Acme Supply",
         12.5, "returns@1"),
        ("opened", "discard", "opened-hygiene-items-are-discarded", None, 12.5, "returns@1")]
    assert received.json["status"] == "received"
    assert client.get(f"/v1/returns/{opened['id']}", headers=admin).json == received.json
    assert on_hand(ctx, "ST-1", "A") == 7  # only the restocked unit is back on the shelf
    assert settled(ctx) == [
        ("returned", "A", "ST-1", 1, Decimal("12.50"), d)
        for d in ("restock", "discard", "return_to_vendor", "discard")]
    [event] = events_of(ctx, "return.received")
    assert event["location"] == "ST-1" and event["channel"] == "web"
    assert [ln["rule"] for ln in event["lines"]] == [
        None, "damaged-goods-are-discarded", "defective-goods-go-back-to-vendor",
        "opened-hygiene-items-are-discarded"]
    disposed = events_of(ctx, "return.disposed")
    assert disposed[2] == {
        "return_id": opened["id"], "order_id": placed["id"], "location": "ST-1", "sku": "A",
        "quantity": 1, "disposition": "return_to_vendor",
        "rule": "defective-goods-go-back-to-vendor", "ruleset": "returns@1",
        "vendor": "Acme Supply"}
    timeline = [e["type"] for e in client.get(f"/v1/orders/{placed['id']}/events",
                                              headers=admin).json]
    assert timeline[-7:] == ["return.opened", "return.received", *["return.disposed"] * 4,
                             "order.status_changed"]
    [changed] = events_of(ctx, "order.status_changed")[-1:]
    assert (changed["previous_status"], changed["status"]) == ("shipped", "returned")
    assert_ledger_consistent(ctx)


def test_a_store_that_did_not_ship_restocks_and_the_next_availability_read_shows_it(
        stocked, shipped, open_return, receive, client, admin, ctx):
    placed = shipped([{"sku": "B", "quantity": 3}])  # B is only at DC-1
    assert placed["fulfilments"][0]["location"] == "DC-1"
    web_b = client.get("/v1/availability?channel=web&sku=B", headers=admin).json
    assert web_b["items"][0]["available"] == 2
    opened = open_return(placed["id"], [{"sku": "B", "quantity": 3}]).json

    received = receive(opened["id"], "ST-2", [line("B", 3)])

    assert received.status_code == 200, received.json
    assert received.json["receipts"][0]["lines"][0]["disposition"] == "restock"
    assert on_hand(ctx, "ST-2", "B") == 3
    after = client.get("/v1/availability?channel=web&sku=B&detail=locations",
                       headers=admin).json["items"][0]
    assert after["available"] == 3  # 2 at DC-1, and ST-2's 3 less the stores' buffer of 2
    st2 = next(loc for loc in after["locations"] if loc["location"] == "ST-2")
    assert (st2["on_hand"], st2["available"]) == (3, 1)
    # the order took the product price (20) as its unit price: 3 units refund 60
    assert settled(ctx) == [("returned", "B", "ST-2", 3, Decimal("60.00"), "restock")]
    assert_ledger_consistent(ctx)


def test_partial_receipts_move_the_return_and_the_order_through_their_statuses(
        stocked, shipped, open_return, receive, client, admin, ctx):
    placed = shipped([{"sku": "A", "quantity": 3, "unit_price": 4}])
    opened = open_return(placed["id"], [{"sku": "A", "quantity": 3}]).json
    order_status = lambda: client.get(f"/v1/orders/{placed['id']}",  # noqa: E731
                                      headers=admin).json["status"]
    assert (opened["status"], order_status()) == ("opened", "shipped")

    first = receive(opened["id"], "ST-1", [line("A", 1)])
    assert first.json["status"] == "partially_received"
    assert first.json["lines"][0] | {} == {"sku": "A", "quantity": 3, "received": 1, "open": 2,
                                            "reason": None}
    assert order_status() == "partially_returned"
    assert [o["id"] for o in client.get("/v1/orders?status=partially_returned",
                                        headers=admin).json] == [placed["id"]]

    before = written(ctx)
    too_many = receive(opened["id"], "DC-1", [line("A", 1), line("A", 2, "damaged")])
    assert too_many.status_code == 409 and too_many.json["code"] == "over_receipt"
    assert [p["pointer"] for p in too_many.json["problems"]] == ["/lines/1/quantity"]
    assert written(ctx) == before

    second = receive(opened["id"], "DC-1", [line("A", 1), line("A", 1, "damaged")])
    assert second.status_code == 200 and second.json["status"] == "received"
    assert [r["location"] for r in second.json["receipts"]] == ["ST-1", "DC-1"]
    assert order_status() == "returned"
    assert [(e["previous_status"], e["status"])
            for e in events_of(ctx, "order.status_changed")][-2:] == [
        ("shipped", "partially_returned"), ("partially_returned", "returned")]
    assert receive(opened["id"], "DC-1", [line("A", 1)]).status_code == 409
    assert [(s[2], s[3], s[4], s[5]) for s in settled(ctx)] == [
        ("ST-1", 1, Decimal("4.00"), "restock"), ("DC-1", 1, Decimal("4.00"), "restock"),
        ("DC-1", 1, Decimal("4.00"), "discard")]
    assert_ledger_consistent(ctx)


@pytest.mark.parametrize(("location", "lines", "pointer"), [
    ("ST-1", [line("Z", 1)], "/lines/0/sku"),  # no such product
    ("ST-1", [line("B", 1)], "/lines/0/sku"),  # not on the return
    ("ST-1", [line("A", 0)], "/lines/0/quantity"),
    ("ST-1", [line("A", -2)], "/lines/0/quantity"),
    ("ST-1", [line("A", 1, "soggy")], "/lines/0/condition"),
    ("ST-1", [{"sku": "A", "quantity": 1, "condition": "new"}], "/lines/0"),  # no reason
    ("NOWHERE", [line("A", 1)], "/location"),
    ("DS-1", [line("A", 1)], "/location"),  # a drop-shipper takes no returns
    ("ST-1", [], "/lines"),
])
def test_a_bad_receipt_is_a_422_naming_the_field_and_nothing_is_written(
        stocked, shipped, open_return, receive, ctx, location, lines, pointer):
    placed = shipped([{"sku": "A", "quantity": 2}])
    opened = open_return(placed["id"], [{"sku": "A", "quantity": 2}]).json
    before = written(ctx)

    refused = receive(opened["id"], location, lines)

    assert refused.status_code == 422, refused.json
    assert pointer in [p["pointer"] for p in refused.json["problems"]]
    assert written(ctx) == before


def test_keys_see_only_the_returns_they_may_and_receive_only_at_their_own_location(
        stocked, shipped, open_return, receive, client, headers_for, ctx):
    placed = shipped([{"sku": "A", "quantity": 2}])
    return_id = open_return(placed["id"], [{"sku": "A", "quantity": 2}]).json["id"]
    seen = lambda role: client.get(f"/v1/returns/{return_id}",  # noqa: E731
                                   headers=headers_for(role)).status_code
    assert [seen(r) for r in ("channel:web", "channel:marketplace", "location:DC-1",
                              "location:ST-2", "location:DS-1")] == [200, 404, 200, 200, 404]
    assert client.get("/v1/returns/nope", headers=headers_for("admin")).status_code == 404

    before = written(ctx)
    assert receive(return_id, "ST-1", [line("A", 1)],
                   headers=headers_for("location:ST-2")).status_code == 403
    assert receive(return_id, "ST-1", [line("A", 1)],
                   headers=headers_for("channel:web")).status_code == 403
    assert receive(return_id, "DS-1", [line("A", 1)],
                   headers=headers_for("location:DS-1")).status_code == 422
    assert receive("nope", "ST-1", [line("A", 1)],
                   headers=headers_for("location:ST-1")).status_code == 404
    assert written(ctx) == before
    assert receive(return_id, "ST-1", [line("A", 2)],
                   headers=headers_for("location:ST-1")).status_code == 200

    # received in full at ST-1: ST-1 still sees it, the other locations no longer do
    assert [seen(r) for r in ("location:ST-1", "location:DC-1", "channel:web")] == [
        200, 404, 200]


def test_a_receipt_retried_with_its_idempotency_key_is_received_once(
        stocked, shipped, open_return, client, admin, ctx):
    placed = shipped([{"sku": "A", "quantity": 3}])
    return_id = open_return(placed["id"], [{"sku": "A", "quantity": 3}]).json["id"]
    body = {"location": "ST-1", "lines": [line("A", 1)]}
    post = lambda key, sent=body: client.post(  # noqa: E731
        f"/v1/returns/{return_id}/receipts", json=sent, headers=admin | {"Idempotency-Key": key})
    first = post("scan-1")
    before = written(ctx)

    again = post("scan-1")
    other = post("scan-1", {"location": "ST-1", "lines": [line("A", 2)]})

    assert again.status_code == 200 and again.json["idempotent_replay"] is True
    assert {k: v for k, v in again.json.items() if k != "idempotent_replay"} == first.json
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert written(ctx) == before and on_hand(ctx, "ST-1", "A") == 8
    assert post("scan-2").json["lines"][0]["received"] == 2


def test_a_restock_is_journaled_as_a_return_naming_the_order_and_the_return(
        stocked, shipped, open_return, receive, ctx):
    placed = shipped([{"sku": "B", "quantity": 3}])
    opened = open_return(placed["id"], [{"sku": "B", "quantity": 3}]).json

    assert receive(opened["id"], "ST-2", [line("B", 3)]).status_code == 200

    with ctx.sessions() as session:
        rows = session.execute(
            select(InventoryJournalEntry.cause, InventoryJournalEntry.refs,
                   InventoryJournalEntry.on_hand_before, InventoryJournalEntry.on_hand_after)
            .where(InventoryJournalEntry.location_id == "ST-2",
                   InventoryJournalEntry.sku == "B")).all()
    assert [(r.cause, r.on_hand_before, r.on_hand_after) for r in rows] == [("return", 0, 3)]
    assert rows[0].refs["order"] == placed["id"]
    assert rows[0].refs["return_id"] == opened["id"]
