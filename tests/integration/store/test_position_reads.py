"""Sourcing's candidate reads: the positions of a few SKUs at chosen locations, read the
same on both databases whatever characters the SKUs and locations may hold (on PostgreSQL
the lists go as array texts, where an unquoted NULL would be no SKU at all)."""

from __future__ import annotations

from datetime import UTC, datetime

from service.services.masterdata import upserts
from service.store import position_reads

ODD_SKUS = ["NULL", "null", "A.b:c/d-e", "SKU:1", "_"]
LOCATIONS = [{"id": "NULL", "name": "Store one", "type": "store", "lat": 40.75,
              "lon": -73.99, "daily_capacity": 50, "processing_hours": 4},
             {"id": "DC:1.a-b", "name": "DC", "type": "dc", "lat": 39.1, "lon": -84.5,
              "daily_capacity": 5000, "processing_hours": 12}]


def test_positions_of_skus_named_null_or_with_punctuation_are_read(ctx) -> None:
    upserts.upsert_locations(ctx, LOCATIONS)
    upserts.upsert_products(ctx, [{"sku": sku, "name": sku, "category": "home", "price": 1}
                                  for sku in [*ODD_SKUS, "OTHER"]])
    with ctx.transaction() as uow:
        uow.positions.insert([(loc["id"], sku, n) for n, sku in enumerate(ODD_SKUS, 1)
                              for loc in LOCATIONS] + [("NULL", "OTHER", 9)],
                             datetime(2026, 12, 6, tzinfo=UTC))
    with ctx.reading() as uow:
        rows = position_reads.positions_at(uow.session, ODD_SKUS, ["NULL"])
    assert sorted((r.location_id, r.sku, r.on_hand) for r in rows) == sorted(
        ("NULL", sku, n) for n, sku in enumerate(ODD_SKUS, 1))
