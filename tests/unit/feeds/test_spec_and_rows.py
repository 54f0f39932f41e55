"""Feed settings and the stock rows a batch becomes (location and as_of defaults)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.errors import NotFound
from service.feeds.readers import Batch, FeedFormatError
from service.feeds.sources import Payload
from service.feeds.spec import FeedSpec, feed_specs, find_feed
from service.services.feeds.applying import stock_rows
from service.settings import load_settings, settings_from_dict

MTIME = datetime(2026, 3, 1, 9, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)  # when the file was received
SNAPSHOT = FeedSpec("counts", "stock_snapshot", "/in/*.csv", "csv", location="DC-1")


def payload(modified: datetime | None = MTIME) -> Payload:
    return Payload("/in/a.csv", "0" * 64, modified, lambda: None)  # type: ignore[arg-type]


def settings_with(feeds: list[dict]) -> object:
    return settings_from_dict({"database_url": "sqlite:///:memory:",
                               "rulesets": {"directory": "rulesets", "active": "default@2"},
                               "feeds": feeds})


def test_a_relative_glob_is_read_from_the_config_files_folder(tmp_path: Path):
    (tmp_path / "config.yaml").write_text(
        "database_url: 'sqlite:///:memory:'\nrulesets: {directory: rulesets, active: default@2}\n"
        "feeds: [{name: a, kind: stock_delta, source: in/*.csv, format: csv},\n"
        "        {name: b, kind: products, source: 'https://erp/p.json', format: json}]\n")
    specs = feed_specs(load_settings(tmp_path / "config.yaml", env={}))
    assert specs[0].source == str(tmp_path / "in" / "*.csv") and not specs[0].is_http
    assert specs[1].source == "https://erp/p.json" and specs[1].is_http


def test_an_unknown_feed_name_lists_the_configured_ones():
    settings = settings_with([{"name": "a", "kind": "products", "source": "/x/*.csv",
                               "format": "csv"}])
    with pytest.raises(NotFound, match=r"configured: a\)"):
        find_feed(settings, "b")  # type: ignore[arg-type]


def test_a_feed_without_a_schedule_runs_on_demand_only():
    assert not SNAPSHOT.scheduled
    assert FeedSpec("x", "stock_delta", "/x", "csv", cron="0 * * * *").scheduled


def test_as_of_comes_from_the_row_then_the_envelope_then_the_file_time():
    batch = Batch([{"sku": "A", "on_hand": 1, "as_of": "2026-03-01T12:00:00Z"},
                   {"sku": "B", "on_hand": 2}], [2, 3])
    rows, _ = stock_rows(SNAPSHOT, payload(), batch, NOW)
    assert [r.as_of.hour for r in rows] == [12, 9]
    batch.envelope = {"as_of": "2026-03-01T11:00:00Z"}
    rows, _ = stock_rows(SNAPSHOT, payload(), batch, NOW)
    assert [r.as_of.hour for r in rows] == [12, 11]


def test_without_any_time_the_rows_are_counted_when_the_file_was_received():
    rows, _ = stock_rows(SNAPSHOT, payload(None), Batch([{"sku": "A", "on_hand": 1}], [2]), NOW)
    assert rows[0].as_of == NOW


def test_a_bad_envelope_time_makes_the_file_unreadable():
    with pytest.raises(FeedFormatError, match="as_of"):
        stock_rows(SNAPSHOT, payload(), Batch([], [], {"as_of": "yesterday"}), NOW)


def test_the_location_comes_from_the_row_then_the_envelope_then_the_feed():
    batch = Batch([{"sku": "A", "on_hand": 1, "location": "ST-1"}, {"sku": "B", "on_hand": 2}],
                  [2, 3])
    rows, _ = stock_rows(SNAPSHOT, payload(), batch, NOW)
    assert [r.location_id for r in rows] == ["ST-1", "DC-1"]
    batch.envelope = {"location": "ST-2"}
    rows, _ = stock_rows(SNAPSHOT, payload(), batch, NOW)
    assert [r.location_id for r in rows] == ["ST-1", "ST-2"]


def test_rows_and_errors_keep_the_file_line_numbers():
    batch = Batch([{"sku": "A", "on_hand": 1}, {"sku": "B", "on_hand": -1},
                   {"sku": "C", "on_hand": 3}], [2, 5, 6])
    rows, errors = stock_rows(SNAPSHOT, payload(), batch, NOW)
    assert [r.line for r in rows] == [2, 6] and [e.line for e in errors] == [5]
    batch.lines = [2, 3, 4]
    rows, errors = stock_rows(SNAPSHOT, payload(), batch, NOW)
    assert [r.line for r in rows] == [2, 4] and [e.line for e in errors] == [3]


def test_a_snapshot_feed_refuses_adjustments_a_delta_feed_takes_them():
    batch = Batch([{"sku": "A", "adjust": -2}], [2])
    assert stock_rows(SNAPSHOT, payload(), batch, NOW)[1][0].reason == "expected on_hand"
    delta = FeedSpec("d", "stock_delta", "/in/*.csv", "csv", location="DC-1")
    assert stock_rows(delta, payload(), batch, NOW)[0][0].adjust == -2
