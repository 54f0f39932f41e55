"""Large multi-location snapshots take the bulk paths (staged diff, COPY writes on PostgreSQL)
and still apply exactly what the ledger rules say, with the ATS equal to a recomputation."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.feeds.stock_rows import StockRow
from service.services.ats import kept
from service.services.inventory import snapshots
from service.services.masterdata import upserts
from service.services.rulesets import governance
from service.store import position_diff
from service.store.models import ChannelAvailability, StockPosition

T0 = datetime(2026, 4, 1, tzinfo=UTC)
LOCATIONS = [
    {"id": "DC-1", "name": "DC", "type": "dc", "lat": 40.7, "lon": -74.0, "can_ship": True},
    {"id": "ST-1", "name": "Store", "type": "store", "lat": 41.0, "lon": -73.9,
     "can_pickup": True},
]
SKUS = [f"S{i:04d}" for i in range(800)]


def _setup(ctx):
    upserts.upsert_locations(ctx, LOCATIONS)
    upserts.upsert_products(ctx, [{"sku": s, "name": s, "category": "home"} for s in SKUS])
    governance.start(ctx)


def _snapshot(ctx, counts, as_of):
    rows = [StockRow(i + 1, loc, sku, as_of, on_hand=qty)
            for i, ((loc, sku), qty) in enumerate(sorted(counts.items()))]
    with ctx.transaction() as uow:
        return snapshots.apply_snapshot(ctx, uow, rows, [], len(rows), force=True)


def _stored(ctx):
    with ctx.sessions() as session:
        return {(p.location_id, p.sku): p.on_hand for p in session.scalars(select(StockPosition))}


def _figures(ctx):
    with ctx.sessions() as session:
        return {(r.channel, r.sku): r.available
                for r in session.scalars(select(ChannelAvailability))}


@pytest.fixture(params=["json", "staged"])
def diff_path(request, monkeypatch):
    """SQLite diffs through json_each, or through a staging table (SQLite before 3.38)."""
    if request.param == "staged":
        monkeypatch.setattr(position_diff, "_SQLITE_JSON", False)
    return request.param


def test_bulk_snapshot_applies_changes_zeroes_and_keeps_the_ats_exact(ctx, diff_path):
    _setup(ctx)
    first = {(loc["id"], sku): 5 + i % 7 for loc in LOCATIONS for i, sku in enumerate(SKUS)}
    report = _snapshot(ctx, first, T0)
    assert report.applied == len(first)  # 1,600 new positions
    second = {key: qty + 1 for key, qty in first.items()}  # 1,600 changed: the COPY write path
    for sku in SKUS[:10]:
        second[("ST-1", sku)] = first[("ST-1", sku)]  # unchanged
        del second[("DC-1", sku)]  # absent from the snapshot: zeroed
    report = _snapshot(ctx, second, T0 + timedelta(hours=1))
    assert (report.applied, report.unchanged, report.zeroed) == (1580, 10, 10)
    stored = _stored(ctx)
    assert all(stored[key] == qty for key, qty in second.items())
    assert all(stored[("DC-1", sku)] == 0 for sku in SKUS[:10])
    before = _figures(ctx)
    with ctx.transaction() as uow:
        kept.recompute(uow, ctx.rules.active(uow))
    assert before == _figures(ctx)
    stale = _snapshot(ctx, first, T0 + timedelta(minutes=30))  # older than the last one
    assert stale.stale == len(first) and stale.applied == 0
    assert _stored(ctx) == stored
