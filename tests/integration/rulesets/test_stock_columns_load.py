"""The first load of the per-process columnar copy of the positions reads every position's
counts exactly (packed one row per location): with the largest counts, a free count below 0,
a SKU that holds PostgreSQL's packing separator (that location read without packing: the API
takes no such SKU, a database written by hand may hold one) and a name out of ASCII."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from service.services.masterdata import upserts
from service.services.rulesets.stock_columns import StockColumns
from service.store import position_columns
from service.store.models import Product, StockPosition

AT = datetime(2026, 3, 1, tzinfo=UTC)
LOCATIONS = ["L1", "L2", "L3"]
SKUS = ["P1", "P2", f"P{position_columns.SKU_SEPARATOR}3", "é 4"]
BIGGEST = 2**31 - 1


def the_counts() -> dict[tuple[str, str], tuple[int, int, int]]:
    """A position per location and SKU but three, with varied counts (the odd SKU at L1 only:
    the other locations are read packed)."""
    found = {}
    for n, (location_id, sku) in enumerate((a, s) for a in LOCATIONS for s in SKUS):
        found[(location_id, sku)] = (n * 7 % 11, n % 3, n % 2)
    for missing in (("L2", "P1"), ("L2", SKUS[2]), ("L3", SKUS[2])):
        del found[missing]
    found[("L1", "P2")] = (BIGGEST, 0, 0)
    found[("L3", "P1")] = (1, BIGGEST, BIGGEST)  # free far below 0
    return found


def write(ctx: Any, counts: dict[tuple[str, str], tuple[int, int, int]]) -> None:
    upserts.upsert_locations(ctx, [{"id": i, "name": i, "lat": 40.0, "lon": -74.0,
                                    "type": "store"} for i in LOCATIONS])
    with ctx.transaction() as uow:  # written directly: the API takes only plain SKUs
        uow.session.add_all(Product(sku=s, name="product", updated_at=AT) for s in SKUS)
    with ctx.transaction() as uow:
        uow.journal.because("delta")
        for (location_id, sku), (on_hand, allocated, reserved) in counts.items():
            uow.session.add(StockPosition(location_id=location_id, sku=sku, on_hand=on_hand,
                                          allocated=allocated, reserved=reserved, as_of=AT,
                                          updated_at=AT))


def loaded(ctx: Any) -> dict[tuple[str, str], tuple[int, int]]:
    with ctx.reading() as uow:
        columns = StockColumns()._load(uow.position_columns)
    return {(columns.locations[a], columns.skus[b]): (h, f) for a, b, h, f in zip(
        columns.loc.tolist(), columns.sku.tolist(), columns.on_hand.tolist(),
        columns.free.tolist(), strict=True)}


def in_the_table(ctx: Any) -> dict[tuple[str, str], tuple[int, int]]:
    with ctx.reading() as uow:
        return {(p.location_id, p.sku): (p.on_hand, p.on_hand - p.allocated - p.reserved)
                for p in uow.session.scalars(select(StockPosition))}


def test_the_first_load_holds_every_position_s_counts_exactly(ctx):
    write(ctx, the_counts())
    found = loaded(ctx)
    assert found == in_the_table(ctx)
    assert len(found) == len(LOCATIONS) * len(SKUS) - 3
    assert found[("L3", "P1")] == (1, 1 - 2 * BIGGEST)


def test_the_first_load_of_no_positions_is_empty(ctx):
    assert loaded(ctx) == {}
