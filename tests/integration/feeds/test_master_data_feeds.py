"""Master-data feeds: products and locations upserted all or nothing."""

from __future__ import annotations

import json

from sqlalchemy import select

from service.services.feeds.running import run_feed
from service.store.models import Location, Product
from tests.integration.feeds.helpers import T1, csv_text, remembered, stock


def products(ctx) -> dict[str, tuple]:
    with ctx.sessions() as session:
        return {p.sku: (p.name, float(p.price) if p.price is not None else None, p.tags_text)
                for p in session.scalars(select(Product))}


def test_a_products_csv_creates_and_updates_products(small_network, drop):
    drop("products", "erp.csv", csv_text("sku,name,price,tags", "A,Alpha 2,11.5,",
                                         "NEW-1,Newcomer,3,clearance|summer"))
    [run] = run_feed(small_network, "products")
    assert (run["status"], run["rows_read"], run["applied"]) == ("ok", 2, 2)
    assert run["kind"] == "products" and run["message"] == "1 created, 1 updated"
    assert products(small_network)["A"][:2] == ("Alpha 2", 11.5)
    assert "summer" in products(small_network)["NEW-1"][2]
    assert remembered(small_network, "products") == 1


def test_stock_for_a_product_from_a_feed_is_accepted_at_once(small_network, drop):
    drop("products", "erp.csv", csv_text("sku,name", "NEW-1,Newcomer"))
    run_feed(small_network, "products")
    drop("deltas", "d.ndjson", json.dumps({"location": "DC-1", "sku": "NEW-1", "on_hand": 5,
                                           "as_of": T1}))
    [run] = run_feed(small_network, "deltas")
    assert run["applied"] == 1 and stock(small_network, "DC-1") == {"NEW-1": 5}


def test_a_products_file_with_bad_rows_writes_nothing_and_lists_every_problem(
        small_network, drop):
    drop("products", "erp.csv", csv_text("sku,name,price", "A,Alpha 2,1", "B,,-3",
                                         "bad sku!,Oops,2", "A,Again,4"))
    [run] = run_feed(small_network, "products")
    assert run["status"] == "refused" and "nothing was written" in run["message"]
    problems = [(e["line"], e["reason"]) for e in run["errors"]]
    assert (3, "'name' is required") in problems
    assert [line for line, reason in problems if reason.startswith(("price", "sku"))] == [
        3, 4, 5]
    assert "duplicate sku 'A'" in problems[-1][1]
    assert products(small_network)["A"][0] == "Alpha"
    assert run_feed(small_network, "products") == []


def test_a_locations_ndjson_feed_upserts_locations(small_network, drop):
    rows = [{"id": "ST-9", "name": "Store nine", "type": "store", "lat": 40.0, "lon": -75.0},
            {"id": "DC-1", "name": "DC renamed", "type": "dc", "lat": 39.1, "lon": -84.5}]
    drop("locations", "locs.ndjson", "\n".join(json.dumps(r) for r in rows))
    [run] = run_feed(small_network, "locations")
    assert run["status"] == "ok" and run["applied"] == 2
    with small_network.sessions() as session:
        names = dict(session.execute(select(Location.id, Location.name)).all())
    assert names["ST-9"] == "Store nine" and names["DC-1"] == "DC renamed"


def test_a_locations_file_with_an_unreadable_line_writes_nothing(small_network, drop):
    row = {"id": "ST-9", "name": "Store nine", "type": "store", "lat": 40.0, "lon": -75.0}
    drop("locations", "locs.ndjson", json.dumps(row) + "\n{oops\n")
    [run] = run_feed(small_network, "locations")
    assert run["status"] == "refused" and run["errors"][0]["line"] == 2
    with small_network.sessions() as session:
        assert session.get(Location, "ST-9") is None
