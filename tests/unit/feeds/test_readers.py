"""Feed files become rows with the line numbers people see in an editor."""

from __future__ import annotations

import io

import pytest

from service.feeds.metering import CountedStream
from service.feeds.readers import FeedFormatError, read_batch


def read(text: str | bytes, fmt: str, progress=None):
    raw = text.encode() if isinstance(text, str) else text
    return read_batch(io.BytesIO(raw), fmt, progress)


def test_csv_rows_are_keyed_by_the_header_and_numbered_from_line_two():
    batch = read("sku,on_hand\nA,1\nB,\n", "csv")
    assert batch.items == [{"sku": "A", "on_hand": "1"}, {"sku": "B"}]
    assert batch.lines == [2, 3]


def test_a_quoted_csv_field_over_two_lines_keeps_the_next_row_numbers_right():
    batch = read('sku,name\nA,"two\nlines"\nB,plain\n', "csv")
    assert batch.lines == [2, 4] and batch.items[0]["name"] == "two\nlines"


def test_a_row_after_blank_lines_keeps_its_own_line_number():
    batch = read("sku,on_hand\n\nA,1\n\n\nB,2\n", "csv")
    assert batch.items == [{"sku": "A", "on_hand": "1"}, {"sku": "B", "on_hand": "2"}]
    assert batch.lines == [3, 6]


def test_blank_lines_before_the_header_are_skipped():
    batch = read("\nsku,on_hand\nA,1\n", "csv")
    assert batch.items == [{"sku": "A", "on_hand": "1"}] and batch.lines == [3]


def test_a_csv_row_with_more_or_fewer_fields_than_the_header_keeps_what_it_names():
    batch = read("sku,on_hand\nA,1,extra\nB\n", "csv")
    assert batch.items == [{"sku": "A", "on_hand": "1"}, {"sku": "B"}]


def test_an_unreadable_csv_field_names_the_line_it_is_on():
    import csv
    limit = csv.field_size_limit()
    with pytest.raises(FeedFormatError, match="^line 3: not valid CSV"):
        read("sku,on_hand\nA,1\nB," + "9" * (limit + 1) + "\n", "csv")


def test_a_byte_order_mark_does_not_end_up_in_the_first_column_name():
    assert read("\ufeffsku,on_hand\nA,1\n", "csv").items == [{"sku": "A", "on_hand": "1"}]


def test_an_empty_csv_file_has_no_rows():
    assert read("", "csv").rows_read == 0


def test_ndjson_lines_that_are_not_objects_are_rejected_with_their_line():
    batch = read('{"sku": "A"}\n\n{oops\n[1]\n{"sku": "B"}\n', "ndjson")
    assert batch.lines == [1, 5] and batch.rows_read == 4
    assert [(e.line, e.reason.split(":")[0]) for e in batch.errors] == [
        (3, "not valid JSON"), (4, "expected an object")]


def test_a_json_array_is_numbered_by_position():
    batch = read('[{"sku": "A"}, 3, {"sku": "B"}]', "json")
    assert batch.lines == [1, 3] and batch.errors[0].line == 2


def test_a_json_object_with_items_keeps_its_envelope():
    batch = read('{"location": "ST-1", "as_of": "2026-03-01T10:00:00Z", "items": []}', "json")
    assert batch.envelope == {"location": "ST-1", "as_of": "2026-03-01T10:00:00Z"}


@pytest.mark.parametrize("text, fmt, reason", [
    ('{"items": [', "json", "not valid JSON"),
    ('{"rows": []}', "json", "expected a JSON array"),
    (b"sku\n\xff\xfe\n", "csv", "not UTF-8"),
    ("a,b\n", "xml", "unknown format"),
])
def test_a_file_that_cannot_be_read_at_all_says_why(text, fmt, reason):
    with pytest.raises(FeedFormatError, match=reason):
        read(text, fmt)


def test_progress_is_reported_in_rows_read():
    seen: list[int] = []
    read("sku\n" + "".join(f"S{i}\n" for i in range(2500)), "csv", seen.append)
    assert sum(seen) == 2500 and len(seen) == 3


def test_the_caller_keeps_its_stream_open():
    stream = io.BytesIO(b'[{"sku": "A"}]')
    read_batch(stream, "json")
    assert not stream.closed


def test_a_counted_stream_reports_every_byte_read_a_buffer_at_a_time():
    raw = ("sku\n" + "".join(f"S{i}\n" for i in range(50_000))).encode()
    counts: list[int] = []
    stream = CountedStream(io.BytesIO(raw), counts.append)
    assert read_batch(stream, "csv").rows_read == 50_000
    assert sum(counts) == len(raw) and len(counts) <= len(raw) // 8192 + 2
    assert not stream.closed


def test_an_ndjson_line_too_long_or_too_deep_to_read_is_a_rejected_row():
    too_long = '{"sku": "A", "on_hand": ' + "9" * 5000 + "}"
    too_deep = "[" * 100_000 + "]" * 100_000
    batch = read(f'{too_long}\n{too_deep}\n{{"sku": "B", "on_hand": 1}}\n', "ndjson")
    assert batch.items == [{"sku": "B", "on_hand": 1}] and batch.lines == [3]
    assert [(e.line, e.reason.split(":")[0]) for e in batch.errors] == [
        (1, "not readable JSON"), (2, "not readable JSON")]


def test_a_json_document_with_a_number_too_long_to_read_says_why():
    with pytest.raises(FeedFormatError, match="not readable JSON"):
        read('[{"sku": "A", "on_hand": ' + "9" * 5000 + "}]", "json")
