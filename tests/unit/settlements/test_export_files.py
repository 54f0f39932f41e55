"""Settlement export files are decided by their batch alone: name, fields, bytes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from service.domain.settlements import FIELDS, file_name, record_fields, render

ROW = {"id": 7, "kind": "returned", "order_id": "o1", "order_ref": "R-1", "channel": "web",
       "order_line_id": 3, "sku": "MUG-1", "quantity": 2, "amount": Decimal("17.5"),
       "location_id": "ST-1", "disposition": "restock",
       "created_at": datetime(2026, 12, 1, 9, 30, tzinfo=UTC)}


def test_file_names_are_zero_padded_so_they_sort_as_the_records_do():
    names = [file_name(9, 10, "ndjson"), file_name(11, 120, "ndjson"), file_name(1, 8, "csv")]
    assert names[0] == "settlements-000000000009-000000000010.ndjson"
    assert sorted(names[:2]) == names[:2]
    with pytest.raises(ValueError):
        file_name(1, 2, "xml")


def test_a_record_states_exact_amounts_and_utc_times_whatever_zone_it_was_read_in():
    local = ROW | {"created_at": datetime(2026, 12, 1, 4, 30, tzinfo=timezone(-timedelta(hours=5)))}
    assert record_fields(local, "EUR") == record_fields(ROW, "EUR")
    fields = record_fields(ROW, "EUR")
    assert (fields["amount"], fields["currency"], fields["created_at"]) == (
        "17.50", "EUR", "2026-12-01T09:30:00.000000Z")
    assert list(fields) == list(FIELDS)


def test_ndjson_is_one_object_per_line_and_the_same_bytes_every_time():
    records = [record_fields(ROW, None), record_fields(ROW | {"id": 8, "order_ref": "Ré"}, None)]
    body = render(records, "ndjson")
    assert body == render(records, "ndjson")
    lines = body.decode("utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [7, 8]
    assert json.loads(lines[1])["order_ref"] == "Ré" and body.endswith(b"\n")


def test_csv_has_a_header_and_writes_missing_values_as_empty_cells():
    body = render([record_fields(ROW | {"order_ref": None, "disposition": None}, None)], "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert rows == [{**{k: str(v) for k, v in record_fields(ROW, None).items()},
                     "order_ref": "", "disposition": "", "currency": ""}]
    assert body.decode().splitlines()[0] == ",".join(FIELDS)


def test_an_empty_batch_renders_only_what_its_format_always_has():
    assert render([], "ndjson") == b""
    assert render([], "csv") == (",".join(FIELDS) + "\n").encode()
