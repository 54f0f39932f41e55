"""Folder feeds: each file applied once, in name order, atomically, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.errors import NotFound
from service.feeds import sources
from service.services.feeds.running import run_feed
from service.services.inventory import runs
from service.store.models import StockPosition
from service.store.positions import PositionRepository
from tests.integration.feeds.helpers import T1, T2, csv_text, on_hand, remembered, stock

COUNTS = csv_text("sku,on_hand,as_of", f"A,10,{T1}", f"B,4,{T1}", f"C,6,{T1}")


def test_a_csv_snapshot_is_applied_once_and_its_run_recorded(small_network, drop):
    drop("counts", "2026-03-01.csv", COUNTS)
    [run] = run_feed(small_network, "counts")
    assert (run["status"], run["rows_read"], run["applied"]) == ("ok", 3, 3)
    assert run["source"].endswith("2026-03-01.csv") and run["kind"] == "snapshot"
    assert stock(small_network, "DC-1") == {"A": 10, "B": 4, "C": 6}
    assert run_feed(small_network, "counts") == []
    assert remembered(small_network, "counts") == 1
    assert [r["id"] for r in runs.recent(small_network, "counts")] == [run["id"]]


def test_the_same_content_under_another_name_is_not_applied_again(small_network, drop):
    drop("counts", "a.csv", COUNTS)
    run_feed(small_network, "counts")
    drop("counts", "b-copy.csv", COUNTS)
    assert run_feed(small_network, "counts") == []
    assert remembered(small_network, "counts") == 1


def test_files_are_applied_in_name_order(small_network, drop):
    drop("counts", "2.csv", csv_text("sku,on_hand,as_of", f"A,7,{T2}", f"B,4,{T2}"))
    drop("counts", "1.csv", csv_text("sku,on_hand,as_of", f"A,3,{T1}", f"B,4,{T1}"))
    runs = run_feed(small_network, "counts")
    assert [r["source"].rsplit("/", 1)[-1] for r in runs] == ["1.csv", "2.csv"]
    assert on_hand(small_network, "DC-1", "A") == 7


def test_a_snapshot_file_with_a_location_column_covers_several_locations(small_network, drop):
    drop("counts", "all.csv", csv_text("location,sku,on_hand,as_of", f"ST-1,A,5,{T1}",
                                       f"ST-2,A,6,{T1}", f"DC-1,B,7,{T1}"))
    [run] = run_feed(small_network, "counts")
    assert run["applied"] == 3
    assert (stock(small_network, "ST-1"), stock(small_network, "ST-2")) == ({"A": 5}, {"A": 6})


def test_as_of_defaults_to_the_file_modification_time(small_network, drop):
    written = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    drop("counts", "old.csv", csv_text("sku,on_hand", "A,10"), modified=written)
    run_feed(small_network, "counts")
    with small_network.sessions() as session:
        as_of = session.scalar(select(StockPosition.as_of).where(StockPosition.sku == "A"))
    assert as_of.replace(tzinfo=as_of.tzinfo or UTC) == written


def test_a_json_envelope_names_the_location_and_the_time(small_network, drop):
    body = {"location": "ST-1", "as_of": T1, "items": [{"sku": "A", "on_hand": 2},
                                                      {"sku": "C", "on_hand": 1}]}
    drop("json", "st-1.json", json.dumps(body))
    [run] = run_feed(small_network, "json-counts")
    assert run["applied"] == 2 and stock(small_network, "ST-1") == {"A": 2, "C": 1}


def test_an_ndjson_delta_applies_good_rows_and_lists_bad_ones_by_line(small_network, drop):
    lines = [{"location": "DC-1", "sku": "A", "on_hand": 4, "as_of": T1}, "{not json",
             {"location": "DC-1", "sku": "ZZZ", "on_hand": 1, "as_of": T1}, "",
             {"location": "DC-1", "sku": "B", "adjust": 3, "as_of": T1},
             {"location": "DC-1", "sku": "C", "adjust": "x", "as_of": T1}]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    drop("deltas", "d1.ndjson", text)
    [run] = run_feed(small_network, "deltas")
    assert (run["status"], run["rows_read"], run["applied"], run["rejected"]) == ("ok", 5, 2, 3)
    assert [(e["line"], e["reason"].split(" ")[0]) for e in run["errors"]] == [
        (2, "not"), (3, "unknown"), (6, "adjust")]
    assert stock(small_network, "DC-1") == {"A": 4, "B": 3}


def test_a_delta_file_whose_every_row_is_bad_is_a_rejected_run(small_network, drop):
    lines = [{"location": "NOWHERE", "sku": "A", "on_hand": 4, "as_of": T1},
             {"location": "DC-1", "sku": "ZZZ", "on_hand": 1, "as_of": T1}]
    drop("deltas", "d1.ndjson", "\n".join(json.dumps(x) for x in lines))
    [run] = run_feed(small_network, "deltas")
    assert (run["status"], run["rows_read"], run["applied"], run["rejected"]) == (
        "rejected", 2, 0, 2)
    assert [e["line"] for e in run["errors"]] == [1, 2]
    assert run_feed(small_network, "deltas") == []  # applied once, as a run with bad rows is
    assert stock(small_network, "DC-1") == {}


def test_a_truncated_snapshot_is_refused_once_and_leaves_the_stock(small_network, drop):
    drop("counts", "1.csv", COUNTS)
    run_feed(small_network, "counts")
    drop("counts", "2.csv", csv_text("sku,on_hand,as_of", f"A,9,{T2}"))
    [run] = run_feed(small_network, "counts")
    assert run["status"] == "refused" and "zero 67%" in run["message"]
    assert "not retried" in run["message"]
    assert stock(small_network, "DC-1") == {"A": 10, "B": 4, "C": 6}
    assert run_feed(small_network, "counts") == []
    assert remembered(small_network, "counts") == 1


def test_a_refused_snapshot_can_be_forced(small_network, drop):
    drop("counts", "1.csv", COUNTS)
    run_feed(small_network, "counts")
    drop("counts", "2.csv", csv_text("sku,on_hand,as_of", f"A,9,{T2}"))
    run_feed(small_network, "counts")
    [run] = run_feed(small_network, "counts", force=True)
    assert run["status"] == "ok" and stock(small_network, "DC-1") == {"A": 9, "B": 0, "C": 0}


def test_a_snapshot_with_too_many_bad_rows_is_refused(small_network, drop):
    drop("counts", "bad.csv", csv_text("sku,on_hand,as_of", f"A,3,{T1}", f"B,-1,{T1}",
                                       f"C,lots,{T1}"))
    [run] = run_feed(small_network, "counts")
    assert run["status"] == "refused" and "2 of 3 rows are bad" in run["message"]
    assert [e["line"] for e in run["errors"]] == [3, 4]
    assert stock(small_network, "DC-1") == {}


def test_a_crash_mid_file_leaves_the_previous_stock_and_the_file_new(
        small_network, drop, monkeypatch):
    drop("counts", "1.csv", COUNTS)
    run_feed(small_network, "counts")
    drop("counts", "2.csv", csv_text("sku,on_hand,as_of", f"A,1,{T2}", f"B,2,{T2}",
                                     f"C,3,{T2}"))
    write_counts = PositionRepository.write_counts

    def write_half_then_crash(repository, rows):
        write_counts(repository, rows[: len(rows) // 2 or 1])
        raise OSError("disk on fire")

    monkeypatch.setattr(PositionRepository, "write_counts", write_half_then_crash)
    [run] = run_feed(small_network, "counts")
    assert run["status"] == "failed" and "disk on fire" in run["message"]
    assert stock(small_network, "DC-1") == {"A": 10, "B": 4, "C": 6}
    assert remembered(small_network, "counts") == 1
    monkeypatch.setattr(PositionRepository, "write_counts", write_counts)
    [again] = run_feed(small_network, "counts")
    assert again["status"] == "ok" and stock(small_network, "DC-1") == {"A": 1, "B": 2, "C": 3}


def test_a_failed_file_holds_back_the_files_after_it(small_network, drop, monkeypatch):
    drop("deltas", "1.ndjson", json.dumps({"location": "DC-1", "sku": "A", "adjust": 1,
                                           "as_of": T1}))
    drop("deltas", "2.ndjson", json.dumps({"location": "DC-1", "sku": "A", "adjust": 2,
                                           "as_of": T2}))
    write_counts = PositionRepository.write_counts
    monkeypatch.setattr(PositionRepository, "write_counts", _crash)
    assert [r["status"] for r in run_feed(small_network, "deltas")] == ["failed"]
    monkeypatch.setattr(PositionRepository, "write_counts", write_counts)
    assert [r["status"] for r in run_feed(small_network, "deltas")] == ["ok", "ok"]
    assert on_hand(small_network, "DC-1", "A") == 3


def _crash(*_args: object) -> None:
    raise RuntimeError("boom")


def test_an_unreadable_file_is_refused_and_not_read_again(small_network, drop):
    drop("json", "broken.json", '{"items": [')
    [run] = run_feed(small_network, "json-counts")
    assert run["status"] == "refused" and run["message"].startswith("unreadable file")
    assert run_feed(small_network, "json-counts") == []


def test_a_file_still_being_written_waits_for_the_next_run(small_network, drop, monkeypatch):
    monkeypatch.setattr(sources, "SETTLE_SECONDS", 3600.0)
    drop("counts", "fresh.csv", COUNTS)
    drop("counts", ".hidden.csv", COUNTS)
    assert run_feed(small_network, "counts") == []
    monkeypatch.setattr(sources, "SETTLE_SECONDS", 0.0)
    assert len(run_feed(small_network, "counts")) == 1


def test_a_missing_folder_is_a_failed_run(small_network, inbox):
    (inbox / "deltas").rmdir()
    [run] = run_feed(small_network, "deltas")
    assert run["status"] == "failed" and "does not exist" in run["message"]


def test_an_unknown_feed_is_not_found(ctx):
    with pytest.raises(NotFound, match="configured: counts, json-counts"):
        run_feed(ctx, "nope")
