"""Feed runs journal their stock changes as snapshots or deltas, naming the feed and the
file, whichever way a CSV snapshot is read (COPY on PostgreSQL, Python elsewhere)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from service.services.feeds import applying
from service.services.feeds.running import run_feed
from service.services.inventory import snapshot_copy
from service.store.models import InventoryJournalEntry
from tests.integration.feeds.helpers import T1, T2, csv_text


@pytest.fixture(params=["copy", "python"])
def reader(request, monkeypatch, db_url) -> list[bool]:
    """CSV snapshots read by COPY where the database allows it, or always by Python; the
    list says, per file, whether the COPY path applied it."""
    if request.param == "python":
        monkeypatch.setattr(applying, "_copy_eligible", lambda spec: False)
    applied: list[bool] = []
    real = snapshot_copy.apply_csv

    def counting(*args, **kwargs):
        report = real(*args, **kwargs)
        applied.append(report is not None)
        return report

    monkeypatch.setattr(snapshot_copy, "apply_csv", counting)
    return applied


def _journal(ctx) -> list[tuple]:
    j = InventoryJournalEntry
    with ctx.sessions() as session:
        return [tuple(r) for r in session.execute(
            select(j.sku, j.on_hand_before, j.on_hand_after, j.cause, j.refs).order_by(j.id))]


def test_a_snapshot_feed_journals_each_position_it_moves_as_a_snapshot(
        small_network, drop, reader, db_url, request):
    first = drop("counts", "1.csv", csv_text("sku,on_hand,as_of", f"A,10,{T1}", f"B,4,{T1}"))
    run_feed(small_network, "counts")
    second = drop("counts", "2.csv", csv_text("sku,on_hand,as_of", f"A,7,{T2}", f"B,4,{T2}"))
    run_feed(small_network, "counts")
    assert _journal(small_network) == [
        ("A", 0, 10, "snapshot", {"feed": "counts", "source": str(first)}),
        ("B", 0, 4, "snapshot", {"feed": "counts", "source": str(first)}),
        ("A", 10, 7, "snapshot", {"feed": "counts", "source": str(second)})]
    if db_url.startswith("postgresql") and "copy" in request.node.callspec.id:
        assert reader == [True, True]  # the COPY path's set-based writes are journaled
    else:
        assert True not in reader


def test_a_delta_feed_journals_its_adjustments_as_deltas(small_network, drop):
    path = drop("deltas", "1.ndjson", json.dumps(
        {"location": "DC-1", "sku": "A", "adjust": 3, "as_of": T1}))
    [run] = run_feed(small_network, "deltas")
    assert run["applied"] == 1
    assert _journal(small_network) == [
        ("A", 0, 3, "delta", {"feed": "deltas", "source": str(path)})]
