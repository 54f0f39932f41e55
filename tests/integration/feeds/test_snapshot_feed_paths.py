"""A CSV snapshot feed records the same run whichever way it is read: streamed into
PostgreSQL by COPY, or read row by row in Python (SQLite, and files COPY cannot read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.services.feeds import applying
from service.services.feeds.running import run_feed
from service.services.inventory import snapshot_copy
from service.settings import Settings, settings_from_dict
from tests.integration.feeds.helpers import T1, T2, csv_text, remembered, stock

FIRST = csv_text("sku,on_hand,as_of", f"A,10,{T1}", f"B,4,{T1}", f"C,6,{T1}")
SECOND = csv_text("sku,on_hand,as_of", f"A,12,{T2}", f"B,four,{T2}", f"D,1,{T2}",
                  f"C,6,{T2}")
MOSTLY_BAD = csv_text("sku,on_hand,as_of", f"A,x,{T2}", f"B,y,{T2}", f"C,6,{T2}")  # 2 of 3


@pytest.fixture
def settings(db_url: str, tmp_path: Path, rulesets_dir: Path, active_ruleset: str,
             feeds: list[dict[str, Any]]) -> Settings:
    """The feeds' settings, with room for half the rows of these small files to be bad."""
    return settings_from_dict(
        {"database_url": db_url,
         "rulesets": {"directory": str(rulesets_dir), "active": active_ruleset},
         "inventory": {"max_bad_row_share": 0.5}, "feeds": feeds},
        base_dir=tmp_path)


@pytest.fixture(params=["copy", "python"])
def reader(request, monkeypatch, db_url) -> str:
    """Which way CSV snapshots are read; "copy" counts the files COPY applied."""
    if request.param == "python":
        monkeypatch.setattr(applying, "_copy_eligible", lambda spec: False)
        return "python"
    applied = []
    real = snapshot_copy.apply_csv

    def counting(*args, **kwargs):
        report = real(*args, **kwargs)
        applied.append(report is not None)
        return report

    monkeypatch.setattr(snapshot_copy, "apply_csv", counting)
    request.node.copy_applied = applied
    return "copy" if db_url.startswith("postgresql") else "python"


def _run(ctx) -> dict:
    [run] = run_feed(ctx, "counts")
    return {k: run[k] for k in ("status", "kind", "rows_read", "applied", "unchanged", "stale",
                                "rejected", "errors", "message")}


def test_a_snapshot_feed_records_the_same_run_read_either_way(small_network, drop, reader,
                                                             request):
    drop("counts", "1.csv", FIRST)
    _run(small_network)
    drop("counts", "2.csv", SECOND)
    run = _run(small_network)
    assert run == {
        "status": "ok", "kind": "snapshot", "rows_read": 4, "applied": 1, "unchanged": 1,
        "stale": 0, "rejected": 2, "message": None,
        "errors": [{"line": 3, "reason": "on_hand must be a whole number from 0 to 10000000",
                    "sku": "B", "location": "DC-1"},
                   {"line": 4, "reason": "unknown sku 'D'", "sku": "D", "location": "DC-1"}]}
    assert stock(small_network, "DC-1") == {"A": 12, "B": 4, "C": 6}
    assert remembered(small_network, "counts") == 2
    if reader == "copy":
        assert request.node.copy_applied == [True, True]


def test_a_refused_snapshot_feed_lists_its_bad_rows_read_either_way(small_network, drop,
                                                                   reader):
    drop("counts", "1.csv", FIRST)
    _run(small_network)
    drop("counts", "2.csv", MOSTLY_BAD)
    run = _run(small_network)
    assert (run["status"], run["rows_read"], run["rejected"]) == ("refused", 3, 2)
    assert [e["line"] for e in run["errors"]] == [2, 3]
    assert run["message"].startswith("2 of 3 rows are bad")
    assert stock(small_network, "DC-1") == {"A": 10, "B": 4, "C": 6}
    assert run_feed(small_network, "counts") == []  # not tried again
