"""The same text pushed over HTTP and dropped into a feed folder reports the same bad rows on
the same lines (CSV: the header is line 1; NDJSON: physical lines, blank ones counted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.services.access.keys import create_key
from service.services.feeds.running import run_feed
from tests.integration.feeds.helpers import T1, csv_text

DELTAS_CSV = csv_text("location,sku,on_hand,note,as_of",
                      f'DC-1,A,4,"a note over,{T1}', f'two lines",{T1}',  # one row, lines 2-3
                      f"DC-1,B,lots,,{T1}", f"DC-1,ZZZ,1,,{T1}", f",C,1,,{T1}", f"DC-1,C,2,,{T1}")
DELTAS_NDJSON = "\n".join([
    '{"location": "DC-1", "sku": "A", "on_hand": 4}', "",
    '{"location": "DC-1", "sku": "B", "on_hand": "lots"}', '{"location": oops}',
    '{"location": "DC-1", "sku": "ZZZ", "on_hand": 1}', ""])
SNAPSHOT_CSV = csv_text("sku,on_hand,note", 'A,4,"a note over', 'two lines"', "B,lots,",
                        "ZZZ,1,", "C,2,")


@pytest.fixture
def feeds(inbox: Path) -> list[dict[str, Any]]:
    for folder in ("csv", "ndjson", "counts"):
        (inbox / folder).mkdir(parents=True, exist_ok=True)
    return [
        {"name": "csv", "kind": "stock_delta", "source": str(inbox / "csv" / "*.csv"),
         "format": "csv"},
        {"name": "ndjson", "kind": "stock_delta", "source": str(inbox / "ndjson" / "*.ndjson"),
         "format": "ndjson"},
        {"name": "counts", "kind": "stock_snapshot", "source": str(inbox / "counts" / "*.csv"),
         "format": "csv", "location": "DC-1"},
    ]


@pytest.fixture
def client(ctx) -> FlaskClient:
    return create_app(ctx=ctx).test_client()


def bad_rows(errors: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(e["line"], e["reason"]) for e in errors]


@pytest.mark.parametrize("feed, path, text, content_type, query, lines", [
    ("csv", "deltas", DELTAS_CSV, "text/csv", {}, [4, 5, 6]),
    ("ndjson", "deltas", DELTAS_NDJSON, "application/x-ndjson", {"as_of": T1}, [3, 4, 5]),
    ("counts", "snapshots", SNAPSHOT_CSV, "text/csv", {"location": "DC-1", "as_of": T1},
     [4, 5]),
], ids=["csv-deltas", "ndjson-deltas", "csv-snapshot"])
def test_a_push_and_a_feed_name_the_same_bad_rows_on_the_same_lines(
        small_network, drop, client, feed, path, text, content_type, query, lines):
    extension = "ndjson" if feed == "ndjson" else "csv"
    drop(feed, f"1.{extension}", text)
    [run] = run_feed(small_network, feed)
    pushed = client.post(f"/v1/inventory/{path}", data=text, content_type=content_type,
                         query_string=query,
                         headers={"Authorization": f"Bearer {create_key(small_network, 'admin')}"})
    assert [line for line, _reason in bad_rows(run["errors"])] == lines
    assert bad_rows(pushed.json["errors"]) == bad_rows(run["errors"])
